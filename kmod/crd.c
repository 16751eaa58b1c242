// SPDX-License-Identifier: GPL-2.0
/*
 * crd: /dev/crd, the optional kernel side of chkpt (docs/KMOD.md).
 *
 * Two things userspace cannot do alone:
 *  - hold a reboot, halt or power-off, forced ones too (reboot(2) straight
 *    from `poweroff -f`, skipping every init script), until the service
 *    (`chkpt serve`) has saved the registered jobs, or a timeout expires;
 *  - checkpoint requests whose rights the kernel checks: a process asks for a
 *    checkpoint of itself or of a process it may ptrace, into a file it
 *    passes; the service receives that file and the requester's identity as
 *    the kernel saw it (no pid or uid the requester could lie about).
 *
 * The ABI is crd_ioctl.h. One mutex guards everything; nothing here is hot.
 */
#define pr_fmt(fmt) "crd: " fmt

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kprobes.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "crd_ioctl.h"

#define CRD_MODULE_VERSION "1.0"

static unsigned int timeout_ms = 5000;
module_param(timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "longest a reboot/halt/power-off waits for the service to save the jobs (ms, default 5000, at most 600000)");

static unsigned int max_jobs = 64;
module_param(max_jobs, uint, 0444);
MODULE_PARM_DESC(max_jobs, "most jobs that may be registered (default 64)");

#define CRD_TIMEOUT_MAX_MS 600000u

struct crd_jobent {
	struct list_head link;
	struct crd_job job;  /* pid as registered; path, mode, keep, id */
	struct pid *pid;
};

enum crd_req_state { REQ_QUEUED, REQ_TAKEN, REQ_DONE };

struct crd_req {
	struct list_head link;  /* on crd_queue or crd_taken */
	u32 id;
	enum crd_req_state state;
	bool requester_gone;    /* its file closed while the service had it */
	int result;
	u32 flags;
	struct file *file;      /* the file to write the image to */
	struct pid *target, *requester;
	kuid_t uid;
};

/* Per open file of /dev/crd. */
struct crd_client {
	struct crd_req *pending;  /* a request the service took, still unanswered */
	bool in_request;          /* a thread waits in CRD_IOC_REQUEST on this file */
};

static DEFINE_MUTEX(crd_lock);
static DECLARE_WAIT_QUEUE_HEAD(crd_service_wq);  /* the service waits for events */
static DECLARE_WAIT_QUEUE_HEAD(crd_done_wq);     /* requesters and shutdown wait for answers */
static LIST_HEAD(crd_jobs);
static LIST_HEAD(crd_queue);
static LIST_HEAD(crd_taken);
static unsigned int crd_nr_jobs;
static u32 crd_next_id;
static struct file *crd_service;     /* the service's open file, or NULL */
static struct pid *crd_service_pid;
/* the shutdown under way: pending until the service takes it, done when it answers */
static bool shutdown_pending, shutdown_taken, shutdown_done;
static u32 shutdown_id, shutdown_kind;
static int shutdown_result;

/*
 * ptrace_may_access() (kernel/ptrace.c) is what decides every ptrace, /proc/PID/mem
 * and pidfd_getfd access, LSMs (Yama) included; it is not exported to modules,
 * so it is looked up once at load through a kprobe on it. Without it, requests
 * for another process are refused (EOPNOTSUPP) rather than judged by a copy.
 */
typedef bool (*ptrace_may_access_fn)(struct task_struct *task, unsigned int mode);
static ptrace_may_access_fn crd_ptrace_may_access;

#ifdef CONFIG_PPC64_ELF_ABI_V2
/*
 * A kprobe sits at the local entry point (after the TOC setup, perhaps after
 * the ftrace call too), but a call through a pointer must enter at the global
 * one, which sets r2 from r12: "addis r2,r12,N; addi r2,r2,M" (the ELFv2 ABI).
 */
static void *global_entry(void *addr)
{
	u32 *p = addr;
	int back;

	for (back = 0; back <= 4; back++, p--)
		if ((p[0] & 0xffff0000) == 0x3c4c0000 && (p[1] & 0xffff0000) == 0x38420000)
			return p;
	return NULL;
}
#else
static void *global_entry(void *addr) { return addr; }
#endif

static void resolve_ptrace_may_access(void)
{
	struct kprobe kp = { .symbol_name = "ptrace_may_access" };

	if (register_kprobe(&kp) < 0) {
		pr_warn("cannot find ptrace_may_access: requests for other processes refused\n");
		return;
	}
	crd_ptrace_may_access = (ptrace_may_access_fn)global_entry(kp.addr);
	unregister_kprobe(&kp);
	if (!crd_ptrace_may_access)
		pr_warn("ptrace_may_access has no recognisable entry: requests for other processes refused\n");
}

/* ---- jobs ------------------------------------------------------------------ */

static struct crd_jobent *find_job(u32 id)
{
	struct crd_jobent *j;

	list_for_each_entry(j, &crd_jobs, link)
		if (j->job.id == id)
			return j;
	return NULL;
}

static void free_job(struct crd_jobent *j)
{
	list_del(&j->link);
	put_pid(j->pid);
	kfree(j);
	crd_nr_jobs--;
}

static long job_add(struct crd_job __user *arg)
{
	struct crd_jobent *j;
	long ret = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	j = kzalloc(sizeof(*j), GFP_KERNEL);
	if (!j)
		return -ENOMEM;
	if (copy_from_user(&j->job, arg, sizeof(j->job))) {
		kfree(j);
		return -EFAULT;
	}
	if (j->job.pid <= 0 || (j->job.mode & ~CRD_MODE_ALL) || j->job.path[0] != '/' ||
	    !memchr(j->job.path, 0, sizeof(j->job.path))) {
		kfree(j);
		return -EINVAL;
	}
	j->pid = find_get_pid(j->job.pid);
	if (!j->pid || !pid_task(j->pid, PIDTYPE_TGID)) {
		put_pid(j->pid);
		kfree(j);
		return -ESRCH;
	}
	mutex_lock(&crd_lock);
	if (crd_nr_jobs >= max_jobs) {
		ret = -ENOSPC;
	} else {
		j->job.id = ++crd_next_id;
		list_add_tail(&j->link, &crd_jobs);
		crd_nr_jobs++;
		pr_info("job %u registered: pid %d, %s%s\n", j->job.id, pid_nr(j->pid), j->job.path,
			(j->job.mode & CRD_MODE_GENERATIONS) ? "/ (generations)" : "");
	}
	mutex_unlock(&crd_lock);
	if (ret) {
		put_pid(j->pid);
		kfree(j);
		return ret;
	}
	return copy_to_user(&arg->id, &j->job.id, sizeof(arg->id)) ? -EFAULT : 0;
}

/* The index-th job; pid 0 if its process is gone. */
static long job_get(struct crd_job __user *arg)
{
	struct crd_job out;
	struct crd_jobent *j;
	u32 index, i = 0;
	long ret = -ENOENT;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&index, &arg->id, sizeof(index)))
		return -EFAULT;
	mutex_lock(&crd_lock);
	list_for_each_entry(j, &crd_jobs, link) {
		if (i++ != index)
			continue;
		out = j->job;
		rcu_read_lock();
		out.pid = pid_task(j->pid, PIDTYPE_TGID) ? pid_vnr(j->pid) : 0;
		rcu_read_unlock();
		ret = 0;
		break;
	}
	mutex_unlock(&crd_lock);
	if (!ret && copy_to_user(arg, &out, sizeof(out)))
		ret = -EFAULT;
	return ret;
}

static long job_del(u32 __user *arg)
{
	struct crd_jobent *j;
	u32 id;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (get_user(id, arg))
		return -EFAULT;
	mutex_lock(&crd_lock);
	j = find_job(id);
	if (j) {
		pr_info("job %u unregistered\n", id);
		free_job(j);
	}
	mutex_unlock(&crd_lock);
	return j ? 0 : -ENOENT;
}

/* ---- requests -------------------------------------------------------------- */

static void free_req(struct crd_req *r)
{
	if (r->file)
		fput(r->file);
	put_pid(r->target);
	put_pid(r->requester);
	kfree(r);
}

/* The service answered, or went away (result EPIPE): the requester may go on. */
static void answer_req(struct crd_req *r, int result)
{
	list_del(&r->link);
	if (r->requester_gone) {
		free_req(r);
		return;
	}
	r->state = REQ_DONE;
	r->result = result;
	wake_up_all(&crd_done_wq);
}

/* May the caller checkpoint the process with that thread group? */
static int may_checkpoint(struct pid *target)
{
	struct task_struct *task;
	int ret = 0;

	if (target == task_tgid(current))
		return 0;
	if (!crd_ptrace_may_access)
		return -EOPNOTSUPP;
	task = get_pid_task(target, PIDTYPE_TGID);
	if (!task)
		return -ESRCH;
	if (!crd_ptrace_may_access(task, PTRACE_MODE_ATTACH_REALCREDS))
		ret = -EPERM;
	put_task_struct(task);
	return ret;
}

static struct crd_req *new_request(const struct crd_request *in)
{
	struct crd_req *r;
	int ret;

	if (in->flags & ~CRD_REQUEST_ALL || in->target < 0)
		return ERR_PTR(-EINVAL);
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return ERR_PTR(-ENOMEM);
	r->flags = in->flags;
	r->uid = current_uid();
	r->requester = get_pid(task_tgid(current));
	r->target = in->target ? find_get_pid(in->target) : get_pid(task_tgid(current));
	ret = r->target ? may_checkpoint(r->target) : -ESRCH;
	if (!ret) {
		r->file = fget(in->fd);
		if (!r->file || !(r->file->f_mode & FMODE_WRITE))
			ret = -EBADF;
	}
	if (ret) {
		free_req(r);
		return ERR_PTR(ret);
	}
	return r;
}

/*
 * Queue the request and wait for the service's answer. A signal before the
 * service took it withdraws it (EINTR). Once the service has it, a signal
 * (the service's own PTRACE_INTERRUPT, when the target is the caller) only
 * interrupts the wait: the system call restarts and this file's pending
 * request is waited for again, not asked for twice.
 */
static long wait_for_answer(struct crd_client *c, struct crd_request *in)
{
	struct crd_req *r = c->pending;
	long ret;

	if (!r) {
		r = new_request(in);
		if (IS_ERR(r))
			return PTR_ERR(r);
		mutex_lock(&crd_lock);
		if (!crd_service) {
			mutex_unlock(&crd_lock);
			free_req(r);
			return -EAGAIN;
		}
		r->id = ++crd_next_id;
		r->state = REQ_QUEUED;
		list_add_tail(&r->link, &crd_queue);
		mutex_unlock(&crd_lock);
		wake_up_all(&crd_service_wq);
	}
	ret = wait_event_interruptible(crd_done_wq, READ_ONCE(r->state) == REQ_DONE);
	mutex_lock(&crd_lock);
	if (ret && r->state == REQ_QUEUED) {
		list_del(&r->link);
		mutex_unlock(&crd_lock);
		c->pending = NULL;
		free_req(r);
		return -EINTR;
	}
	if (ret) {
		c->pending = r;
		mutex_unlock(&crd_lock);
		return -ERESTARTSYS;
	}
	mutex_unlock(&crd_lock);
	c->pending = NULL;
	in->result = r->result;
	free_req(r);
	return 0;
}

static long request(struct crd_client *c, struct crd_request __user *arg)
{
	struct crd_request in;
	long ret = 0;

	if (copy_from_user(&in, arg, sizeof(in)))
		return -EFAULT;
	/* one request at a time per open file: its threads would share c->pending */
	mutex_lock(&crd_lock);
	if (c->in_request)
		ret = -EBUSY;
	c->in_request = true;
	mutex_unlock(&crd_lock);
	if (ret)
		return ret;  /* and in_request stays the other thread's */
	ret = wait_for_answer(c, &in);
	mutex_lock(&crd_lock);
	c->in_request = false;
	mutex_unlock(&crd_lock);
	if (!ret && put_user(in.result, &arg->result))
		ret = -EFAULT;
	return ret;
}

/* ---- the service ----------------------------------------------------------- */

static long serve(struct file *f)
{
	long ret = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	mutex_lock(&crd_lock);
	if (crd_service && crd_service != f) {
		ret = -EBUSY;
	} else if (!crd_service) {
		crd_service = f;
		crd_service_pid = get_pid(task_tgid(current));
		pr_info("service is pid %d\n", pid_nr(crd_service_pid));
	}
	mutex_unlock(&crd_lock);
	return ret;
}

static bool event_ready(void)
{
	return (shutdown_pending && !shutdown_taken) || !list_empty(&crd_queue);
}

/* Fill *ev with the next event, the lock held: the shutdown first. */
static long next_event(struct crd_event *ev, int *fd_out, struct crd_req **req_out)
{
	struct crd_req *r;
	int fd;

	memset(ev, 0, sizeof(*ev));
	if (shutdown_pending && !shutdown_taken) {
		ev->kind = CRD_EVENT_SHUTDOWN;
		ev->id = shutdown_id;
		ev->shutdown = shutdown_kind;
		return 0;
	}
	r = list_first_entry(&crd_queue, struct crd_req, link);
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	ev->kind = CRD_EVENT_REQUEST;
	ev->id = r->id;
	ev->fd = fd;
	ev->flags = r->flags;
	ev->target = pid_vnr(r->target);
	ev->requester = pid_vnr(r->requester);
	ev->requester_uid = from_kuid_munged(current_user_ns(), r->uid);
	*fd_out = fd;
	*req_out = r;
	return 0;
}

static long wait_event_for_service(struct file *f, struct crd_event __user *arg)
{
	struct crd_event ev;
	struct crd_req *r = NULL;
	int fd = -1;
	long ret;

	if (READ_ONCE(crd_service) != f)
		return -EPERM;
	ret = wait_event_interruptible(crd_service_wq, event_ready());
	if (ret)
		return ret;
	mutex_lock(&crd_lock);
	if (!event_ready()) {
		mutex_unlock(&crd_lock);
		return -EAGAIN;  /* a requester withdrew meanwhile */
	}
	ret = next_event(&ev, &fd, &r);
	if (!ret && copy_to_user(arg, &ev, sizeof(ev)))
		ret = -EFAULT;
	if (ret) {
		if (fd >= 0)
			put_unused_fd(fd);
	} else if (r) {
		/* the service's fd holds its own reference; the request keeps one until answered */
		fd_install(fd, get_file(r->file));
		r->state = REQ_TAKEN;
		list_move_tail(&r->link, &crd_taken);
	} else {
		shutdown_taken = true;
	}
	mutex_unlock(&crd_lock);
	return ret;
}

static long done(struct file *f, struct crd_done __user *arg)
{
	struct crd_done d;
	struct crd_req *r;
	long ret = -ENOENT;

	if (copy_from_user(&d, arg, sizeof(d)))
		return -EFAULT;
	if (d.result < 0)
		return -EINVAL;
	mutex_lock(&crd_lock);
	if (crd_service != f) {
		ret = -EPERM;
	} else if (d.kind == CRD_EVENT_SHUTDOWN && shutdown_taken && d.id == shutdown_id) {
		shutdown_done = true;
		shutdown_result = d.result;
		wake_up_all(&crd_done_wq);
		ret = 0;
	} else if (d.kind == CRD_EVENT_REQUEST) {
		list_for_each_entry(r, &crd_taken, link) {
			if (r->id != d.id)
				continue;
			answer_req(r, d.result);
			ret = 0;
			break;
		}
	}
	mutex_unlock(&crd_lock);
	return ret;
}

/* ---- shutdown -------------------------------------------------------------- */

static const char *shutdown_name(u32 kind)
{
	return kind == CRD_SHUTDOWN_RESTART ? "reboot" : kind == CRD_SHUTDOWN_HALT ? "halt" : "power-off";
}

/*
 * Called by kernel_restart_prepare() / kernel_shutdown_prepare()
 * (kernel/reboot.c) in the task that called reboot(2), before any device is
 * shut down, while every process still runs. Waits at most timeout_ms.
 */
static int crd_reboot(struct notifier_block *nb, unsigned long action, void *unused)
{
	u32 kind = action == SYS_RESTART ? CRD_SHUTDOWN_RESTART :
		   action == SYS_HALT ? CRD_SHUTDOWN_HALT : CRD_SHUTDOWN_POWER_OFF;
	unsigned int ms = min(READ_ONCE(timeout_ms), CRD_TIMEOUT_MAX_MS);
	unsigned long start = jiffies;
	long left;
	int service_pid;

	mutex_lock(&crd_lock);
	if (!crd_service || !crd_nr_jobs) {
		pr_info("%s: %s, %u job(s) not saved\n", shutdown_name(kind),
			crd_service ? "no jobs registered" : "no service running", crd_nr_jobs);
		mutex_unlock(&crd_lock);
		return NOTIFY_DONE;
	}
	service_pid = pid_nr(crd_service_pid);
	shutdown_kind = kind;
	shutdown_id = ++crd_next_id;
	shutdown_pending = true;
	shutdown_taken = shutdown_done = false;
	pr_info("%s: asking service %d to save %u job(s), waiting up to %u ms\n", shutdown_name(kind),
		service_pid, crd_nr_jobs, ms);
	mutex_unlock(&crd_lock);
	wake_up_all(&crd_service_wq);

	left = wait_event_timeout(crd_done_wq, READ_ONCE(shutdown_done) || !READ_ONCE(crd_service),
				  msecs_to_jiffies(ms));
	mutex_lock(&crd_lock);
	if (shutdown_done)
		pr_info("%s: service saved the jobs in %u ms (result %d)\n", shutdown_name(kind),
			jiffies_to_msecs(jiffies - start), shutdown_result);
	else if (!crd_service)
		pr_warn("%s: the service went away after %u ms without saying done: going on\n",
			shutdown_name(kind), jiffies_to_msecs(jiffies - start));
	else
		pr_warn("%s: no answer from service %d within %u ms: going on\n", shutdown_name(kind),
			service_pid, ms);
	shutdown_pending = false;
	mutex_unlock(&crd_lock);
	return NOTIFY_DONE;
}

static struct notifier_block crd_reboot_nb = {
	.notifier_call = crd_reboot,
	.priority = INT_MAX,  /* before the others: the disks must still be there */
};

/* ---- the device ------------------------------------------------------------ */

static int crd_open(struct inode *inode, struct file *f)
{
	struct crd_client *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	f->private_data = c;
	return 0;
}

static int crd_release(struct inode *inode, struct file *f)
{
	struct crd_client *c = f->private_data;
	struct crd_req *r, *tmp;

	mutex_lock(&crd_lock);
	if (c->pending) {
		if (c->pending->state == REQ_DONE)
			free_req(c->pending);
		else
			c->pending->requester_gone = true;
	}
	if (crd_service == f) {
		list_for_each_entry_safe(r, tmp, &crd_taken, link)
			answer_req(r, EPIPE);
		list_for_each_entry_safe(r, tmp, &crd_queue, link)
			answer_req(r, EPIPE);
		pr_info("service %d ended\n", pid_nr(crd_service_pid));
		put_pid(crd_service_pid);
		crd_service_pid = NULL;
		crd_service = NULL;
		wake_up_all(&crd_done_wq);
	}
	mutex_unlock(&crd_lock);
	kfree(c);
	return 0;
}

static long version(struct crd_version __user *arg)
{
	struct crd_version v = { .abi = CRD_ABI_VERSION, .max_jobs = max_jobs };

	mutex_lock(&crd_lock);
	v.timeout_ms = min(timeout_ms, CRD_TIMEOUT_MAX_MS);
	v.jobs = crd_nr_jobs;
	v.service_pid = crd_service_pid ? pid_vnr(crd_service_pid) : 0;
	mutex_unlock(&crd_lock);
	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long crd_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	void __user *p = (void __user *)arg;

	switch (cmd) {
	case CRD_IOC_VERSION: return version(p);
	case CRD_IOC_JOB_ADD: return job_add(p);
	case CRD_IOC_JOB_GET: return job_get(p);
	case CRD_IOC_JOB_DEL: return job_del(p);
	case CRD_IOC_SERVE: return serve(f);
	case CRD_IOC_WAIT: return wait_event_for_service(f, p);
	case CRD_IOC_DONE: return done(f, p);
	case CRD_IOC_REQUEST: return request(f->private_data, p);
	}
	return -ENOTTY;
}

static const struct file_operations crd_fops = {
	.owner = THIS_MODULE,
	.open = crd_open,
	.release = crd_release,
	.unlocked_ioctl = crd_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice crd_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "crd",
	.fops = &crd_fops,
	.mode = 0600,
};

static int __init crd_init(void)
{
	int ret;

	resolve_ptrace_may_access();
	ret = register_reboot_notifier(&crd_reboot_nb);
	if (ret)
		return ret;
	ret = misc_register(&crd_dev);
	if (ret) {
		unregister_reboot_notifier(&crd_reboot_nb);
		return ret;
	}
	pr_info("version " CRD_MODULE_VERSION ", ABI %d: /dev/crd, shutdown timeout %u ms\n",
		CRD_ABI_VERSION, timeout_ms);
	return 0;
}

static void __exit crd_exit(void)
{
	struct crd_jobent *j, *tmp;

	misc_deregister(&crd_dev);
	unregister_reboot_notifier(&crd_reboot_nb);
	list_for_each_entry_safe(j, tmp, &crd_jobs, link)
		free_job(j);
	pr_info("unloaded\n");
}

module_init(crd_init);
module_exit(crd_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION(CRD_MODULE_VERSION);
MODULE_AUTHOR("the chkpt project");
MODULE_DESCRIPTION("chkpt: save jobs before power-off, kernel-checked checkpoint requests (/dev/crd)");
