//! The matrix product on the `gemm` crate's kernels, and the macro that compiles element-wise loops
//! for AVX-512 or AVX2 chosen at run time.

/// `C = op(A)·op(B)` (or `C += op(A)·op(B)` with `accumulate`), all row-major: `C` is `m × n`, `op(A)`
/// is `m × k` (`A` stored `k × m` when `ta`), `op(B)` is `k × n` (`B` stored `n × k` when `tb`).
///
/// On the calling thread: at these sizes (a few hundred rows) splitting one product between threads
/// costs more in synchronisation than it gains, so the agents split their work instead (twin critics,
/// halves of a batch) and every product stays on one thread, which also keeps results independent of
/// the pool's size. Inside [`with_product_threads`] it is split over that many threads.
///
/// # Panics
/// When a slice is shorter than its shape says (a programming error, not an input error).
pub fn matmul(
    c: &mut [f32],
    a: &[f32],
    ta: bool,
    b: &[f32],
    tb: bool,
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
) {
    let a_view = if ta { View::transposed(0, m) } else { View::rows(0, k) };
    let b_view = if tb { View::transposed(0, k) } else { View::rows(0, n) };
    matmul_view((c, View::rows(0, n)), (a, a_view), (b, b_view), (m, k, n), accumulate);
}

thread_local! {
    /// Threads each matrix product on this thread may use (1: the calling thread alone).
    static PRODUCT_THREADS: std::cell::Cell<usize> = const { std::cell::Cell::new(1) };
}

/// Runs `f` with the matrix products it makes on this thread split over `threads` of rayon's threads:
/// for a large model on few rows, where splitting the rows between threads instead would have each
/// thread read every weight (see `llm::fast::rows::split_for`).
pub fn with_product_threads<T>(threads: usize, f: impl FnOnce() -> T) -> T {
    let before = PRODUCT_THREADS.replace(threads.max(1));
    let out = f();
    PRODUCT_THREADS.set(before);
    out
}

/// Where a matrix lies in a slice: the index of its first element and the steps between rows and
/// between columns. A convolution's products read and write column blocks of wider matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// Index of element (0, 0).
    pub offset: usize,
    /// Step from one row to the next.
    pub row_stride: usize,
    /// Step from one column to the next.
    pub col_stride: usize,
}

impl View {
    /// A row-major matrix whose rows are `row_stride` apart, starting at `offset`.
    pub fn rows(offset: usize, row_stride: usize) -> Self {
        Self { offset, row_stride, col_stride: 1 }
    }

    /// The transpose of a row-major matrix whose rows are `stored_row_stride` apart: its element
    /// `(i, j)` is the stored `(j, i)`.
    pub fn transposed(offset: usize, stored_row_stride: usize) -> Self {
        Self { offset, row_stride: 1, col_stride: stored_row_stride }
    }

    /// Whether a `rows × cols` matrix in this view fits in `len` elements.
    fn fits(&self, (rows, cols): (usize, usize), len: usize) -> bool {
        rows == 0 || cols == 0 || self.offset + (rows - 1) * self.row_stride + (cols - 1) * self.col_stride < len
    }
}

/// `C = A·B` (or `C += A·B` with `accumulate`) with each matrix given as a slice and its [`View`]:
/// `C` is `m × n`, `A` is `m × k`, `B` is `k × n`. On the calling thread, like [`matmul`].
///
/// # Panics
/// When a view reaches past its slice (a programming error, not an input error).
#[allow(unsafe_code)]
pub fn matmul_view(
    (c, cv): (&mut [f32], View),
    (a, av): (&[f32], View),
    (b, bv): (&[f32], View),
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
) {
    assert!(
        cv.fits((m, n), c.len()) && av.fits((m, k), a.len()) && bv.fits((k, n), b.len()),
        "matmul: a view reaches past its slice ({m}×{k}×{n})"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    c[cv.offset + i * cv.row_stride + j * cv.col_stride] = 0.0;
                }
            }
        }
        return;
    }
    // SAFETY: the assert above bounds every index gemm forms (offset + i·row stride + j·column
    // stride for i, j inside each shape) by its slice's length. `c` is a unique borrow, so it cannot
    // alias `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr().add(cv.offset),
            cv.col_stride as isize,
            cv.row_stride as isize,
            accumulate,
            a.as_ptr().add(av.offset),
            av.col_stride as isize,
            av.row_stride as isize,
            b.as_ptr().add(bv.offset),
            bv.col_stride as isize,
            bv.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            match PRODUCT_THREADS.get() {
                1 => gemm::Parallelism::None,
                n => gemm::Parallelism::Rayon(n),
            },
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
    fn a_product_split_over_threads_equals_the_one_made_on_one_thread() {
        // The shapes of a decoded token of a large model: few rows, long sides.
        let (m, k, n) = (16, 384, 1500);
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0).collect();
        let (mut one, mut split) = (vec![0.0; m * n], vec![0.0; m * n]);
        matmul(&mut one, &a, false, &b, true, (m, k, n), false);
        with_product_threads(4, || matmul(&mut split, &a, false, &b, true, (m, k, n), false));
        let gap = one.iter().zip(&split).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
        assert!(gap < 1e-4, "split products differ by {gap}");
        // The setting is the caller's and ends with it.
        assert_eq!(PRODUCT_THREADS.get(), 1);
        assert_eq!(with_product_threads(3, || PRODUCT_THREADS.get()), 3);
    }

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
