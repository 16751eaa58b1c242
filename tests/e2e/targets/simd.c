/* simd LOGFILE [avx|sse]   (x86_64 only; elsewhere logs "skip", exits 77)
 *
 * Loads distinct known values into the vector registers (zmm0-30 and k1-7
 * with AVX-512F, else ymm0-14 with AVX, else xmm0-14), r8-r15, MXCSR and the
 * x87 control word, logs "ready", then spins in one inline-asm loop that
 * re-checks every one of them each iteration: no syscalls, no calls, so a
 * checkpoint catches it in user mode with live register state that only the
 * saved XSAVE area / GPR set can bring back. SIGUSR2 sets a flag the loop
 * polls (the kernel saves and restores all registers around the handler).
 * Logs "regs ok N <set>" (N = iterations, exit 0) or "regs FAIL <reg>" (1).
 * The optional argument limits the set to what AVX or SSE2 alone gives.
 */
#include "common.h"

#if defined(__x86_64__)
#include <stddef.h>

struct regs {
	unsigned char vec[32][64];
	uint64_t gpr[8];	/* r8..r15 */
	uint32_t mxcsr, mxcsr_now;
	uint16_t fcw, fcw_now;
	uint16_t k[8];
} __attribute__((aligned(64)));

/* Offsets are spelled out in the asm text below. */
_Static_assert(offsetof(struct regs, gpr) == 2048, "layout");
_Static_assert(offsetof(struct regs, mxcsr) == 2112, "layout");
_Static_assert(offsetof(struct regs, mxcsr_now) == 2116, "layout");
_Static_assert(offsetof(struct regs, fcw) == 2120, "layout");
_Static_assert(offsetof(struct regs, fcw_now) == 2122, "layout");
_Static_assert(offsetof(struct regs, k) == 2124, "layout");

static struct regs want;

/* Fail codes left in %edx: 0-31 vector register, 40+n r(8+n), 60 MXCSR,
 * 61 x87 control word, 70+n k(n). -1 = all good. */
#define R7(M) M(1) M(2) M(3) M(4) M(5) M(6) M(7)
#define R15(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) \
	M(8) M(9) M(10) M(11) M(12) M(13) M(14)
#define R31(M) R15(M) M(15) M(16) M(17) M(18) M(19) M(20) M(21) M(22) \
	M(23) M(24) M(25) M(26) M(27) M(28) M(29) M(30)

/* r8..r15: want.gpr[n - 8] */
#define R8_15(M) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)
#define GPR_LD(n) "mov 2048+8*" #n "-64(%%rsi), %%r" #n "\n\t"
#define GPR_CK(n) "mov $40+" #n "-8, %%edx\n\tcmp 2048+8*" #n "-64(%%rsi), %%r" #n "\n\tjne 9f\n\t"
#define GPR_LOAD R8_15(GPR_LD)
#define GPR_CHECK R8_15(GPR_CK)
#define CTL_LOAD "ldmxcsr 2112(%%rsi)\n\tfldcw 2120(%%rsi)\n\t"
#define CTL_CHECK \
	"mov $60, %%edx\n\tstmxcsr 2116(%%rsi)\n\tmov 2116(%%rsi), %%eax\n\t" \
	"cmp 2112(%%rsi), %%eax\n\tjne 9f\n\t" \
	"mov $61, %%edx\n\tfnstcw 2122(%%rsi)\n\tmovzwl 2122(%%rsi), %%eax\n\t" \
	"cmp 2120(%%rsi), %%ax\n\tjne 9f\n\t"
/* Loop tail: count, poll the SIGUSR2 flag, report -1 when it is set. */
#define LOOP_END "inc %%rcx\n\tcmpl $0, (%%rdi)\n\tje 1b\n\tmov $-1, %%edx\n9:\n\t"
#define GPR_CLOBBERS "rax", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "cc", "memory"
#define X16_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", \
	"xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

#define SSE_LD(i) "movdqa " #i "*64(%%rsi), %%xmm" #i "\n\t"
#define SSE_CK(i) "mov $" #i ", %%edx\n\tmovdqa %%xmm" #i ", %%xmm15\n\t" \
	"pcmpeqb " #i "*64(%%rsi), %%xmm15\n\tpmovmskb %%xmm15, %%eax\n\t" \
	"cmp $0xffff, %%eax\n\tjne 9f\n\t"

static __attribute__((noinline)) int spin_sse(uint64_t *count)
{
	int bad;
	__asm__ volatile(R15(SSE_LD) GPR_LOAD CTL_LOAD
			 "1:\n\t" R15(SSE_CK) GPR_CHECK CTL_CHECK LOOP_END
			 : "=&d"(bad), "+c"(*count)
			 : "S"(&want), "D"(&got_usr2)
			 : GPR_CLOBBERS, X16_CLOBBERS);
	return bad;
}

#define AVX_LD(i) "vmovdqa " #i "*64(%%rsi), %%ymm" #i "\n\t"
#define AVX_CK(i) "mov $" #i ", %%edx\n\tvpxor " #i "*64(%%rsi), %%ymm" #i ", %%ymm15\n\t" \
	"vptest %%ymm15, %%ymm15\n\tjnz 9f\n\t"

static __attribute__((noinline, target("avx"))) int spin_avx(uint64_t *count)
{
	int bad;
	__asm__ volatile(R15(AVX_LD) GPR_LOAD CTL_LOAD
			 "1:\n\t" R15(AVX_CK) GPR_CHECK CTL_CHECK LOOP_END "vzeroupper\n\t"
			 : "=&d"(bad), "+c"(*count)
			 : "S"(&want), "D"(&got_usr2)
			 : GPR_CLOBBERS, X16_CLOBBERS);
	return bad;
}

#define Z_LD(i) "vmovdqa64 " #i "*64(%%rsi), %%zmm" #i "\n\t"
#define Z_CK(i) "mov $" #i ", %%edx\n\tvpcmpq $4, " #i "*64(%%rsi), %%zmm" #i ", %%k0\n\t" \
	"kortestw %%k0, %%k0\n\tjnz 9f\n\t"
#define K_LD(j) "kmovw 2124+2*" #j "(%%rsi), %%k" #j "\n\t"
#define K_CK(j) "mov $70+" #j ", %%edx\n\tkmovw %%k" #j ", %%eax\n\t" \
	"cmp 2124+2*" #j "(%%rsi), %%ax\n\tjne 9f\n\t"

static __attribute__((noinline, target("avx512f"))) int spin_avx512(uint64_t *count)
{
	int bad;
	__asm__ volatile(R31(Z_LD) R7(K_LD) GPR_LOAD CTL_LOAD
			 "1:\n\t" R31(Z_CK) R7(K_CK) GPR_CHECK CTL_CHECK LOOP_END "vzeroupper\n\t"
			 : "=&d"(bad), "+c"(*count)
			 : "S"(&want), "D"(&got_usr2)
			 : GPR_CLOBBERS, X16_CLOBBERS,
			   "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23",
			   "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31",
			   "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7");
	return bad;
}

static void fill_want(void)
{
	uint64_t s = 0x243f6a8885a308d3ULL;
	for (int i = 0; i < 32; i++)
		for (int j = 0; j < 64; j += 8) {
			uint64_t w = xorshift64(&s);
			memcpy(&want.vec[i][j], &w, 8);
		}
	for (int i = 0; i < 8; i++) {
		want.gpr[i] = xorshift64(&s);
		want.k[i] = (uint16_t)(0x1111 * (i + 1) ^ 0x8000);
	}
	want.mxcsr = 0x1f80 | 0x6000; /* all exceptions masked, round toward zero */
	want.fcw = 0x037f & ~0x0300;  /* single precision ... */
	want.fcw |= 0x0800;	      /* ... rounding up */
}

static const char *reg_name(int bad, const char *set, char *buf, size_t len)
{
	if (bad < 32)
		snprintf(buf, len, "%.3s%d", set, bad);
	else if (bad < 60)
		snprintf(buf, len, "r%d", bad - 40 + 8);
	else if (bad < 70)
		snprintf(buf, len, "%s", bad == 60 ? "mxcsr" : "x87 control word");
	else
		snprintf(buf, len, "k%d", bad - 70);
	return buf;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		die("usage: simd LOGFILE [avx|sse]");
	const char *limit = argc == 3 ? argv[2] : "";
	catch_usr2();
	fill_want();
	uint32_t mxcsr;
	uint16_t fcw;
	__asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(fcw));

	uint64_t n = 0;
	int bad;
	const char *set;
	log_line(argv[1], "ready");
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && !*limit)
		set = "zmm0-30 k1-7", bad = spin_avx512(&n);
	else if (__builtin_cpu_supports("avx") && strcmp(limit, "sse"))
		set = "ymm0-14", bad = spin_avx(&n);
	else
		set = "xmm0-14", bad = spin_sse(&n);
	__asm__ volatile("ldmxcsr %0\n\tfldcw %1" : : "m"(mxcsr), "m"(fcw));

	if (bad >= 0) {
		char name[32];
		log_line(argv[1], "regs FAIL %s", reg_name(bad, set, name, sizeof name));
		return 1;
	}
	log_line(argv[1], "regs ok %llu %s r8-r15 mxcsr fcw", (unsigned long long)n, set);
	return 0;
}

#else
int main(int argc, char **argv)
{
	if (argc > 1)
		log_line(argv[1], "skip");
	return 77;
}
#endif
