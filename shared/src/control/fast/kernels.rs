//! The matrix product on the `gemm` crate's kernels, and the macro that compiles element-wise loops
//! for AVX-512 or AVX2 chosen at run time.

/// `C = op(A)·op(B)` (or `C += op(A)·op(B)` with `accumulate`), all row-major: `C` is `m × n`, `op(A)`
/// is `m × k` (`A` stored `k × m` when `ta`), `op(B)` is `k × n` (`B` stored `n × k` when `tb`).
///
/// On the calling thread: at these sizes (a few hundred rows) splitting one product between threads
/// costs more in synchronisation than it gains, so the agents split their work instead (twin critics,
/// halves of a batch) and every product stays on one thread, which also keeps results independent of
/// the pool's size.
///
/// # Panics
/// When a slice is shorter than its shape says (a programming error, not an input error).
#[allow(unsafe_code)]
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    c: &mut [f32],
    a: &[f32],
    ta: bool,
    b: &[f32],
    tb: bool,
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
) {
    assert!(c.len() >= m * n && a.len() >= m * k && b.len() >= k * n, "matmul: slices shorter than {m}×{k}×{n}");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    // (column stride, row stride) of each operand as gemm wants them.
    let (a_cs, a_rs) = if ta { (m as isize, 1) } else { (1, k as isize) };
    let (b_cs, b_rs) = if tb { (k as isize, 1) } else { (1, n as isize) };
    // SAFETY: the assert above bounds every index gemm forms: C's largest is (m−1)·n + (n−1) < m·n,
    // A's (m−1)·k + (k−1) < m·k in either layout, B's likewise < k·n. `c` is a unique borrow, so it
    // cannot alias `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Defines `fn NAME(args) { BODY }` so that BODY runs compiled for AVX-512F when the CPU has it, else
/// for AVX2, else as it is: the binary targets baseline x86-64, whose SSE registers hold 4 floats, and
/// the element-wise loops of a network (nonlinearities, LayerNorm) run 4× wider on AVX-512. BODY is
/// an `#[inline(always)]` inner function compiled inside each wider one. Results are the same bits at
/// every width: element-wise operations are exact IEEE operations either way (no fused multiply-adds
/// are formed) and reductions keep a fixed order (see `mlp::lane_sum`).
macro_rules! widened {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$doc])*
        #[allow(unsafe_code)]
        fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                unsafe fn avx512($($arg: $ty),*) {
                    body($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F, all that `avx512` is compiled to use beyond the baseline.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: as above, for AVX2.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use widened;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_golden_in_every_layout() {
        // A = [[1, 2, 3], [4, 5, 6]] (2×3), B = [[1, 0], [0, 1], [1, 1]] (3×2):
        // A·B = [[1+3, 2+3], [4+6, 5+6]] = [[4, 5], [10, 11]].
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let at = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let bt = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0];
        for (a, ta) in [(&a, false), (&at, true)] {
            for (b, tb) in [(&b, false), (&bt, true)] {
                let mut c = [100.0; 4];
                matmul(&mut c, a, ta, b, tb, (2, 3, 2), false);
                assert_eq!(c, [4.0, 5.0, 10.0, 11.0], "ta {ta} tb {tb}");
                matmul(&mut c, a, ta, b, tb, (2, 3, 2), true);
                assert_eq!(c, [8.0, 10.0, 20.0, 22.0], "accumulate, ta {ta} tb {tb}");
            }
        }
    }
}
