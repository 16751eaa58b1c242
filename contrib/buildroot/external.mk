include $(sort $(wildcard $(BR2_EXTERNAL_CHKPT_PATH)/package/*/*.mk))
