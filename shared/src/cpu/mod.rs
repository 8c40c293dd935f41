//! The compute kit of the fast CPU path (feature `fast`), below all three domains: the matrix
//! product on AVX-512 or AVX2/FMA kernels from the `gemm` crate, Adam, the lanes' barrier and the
//! checkpoint format. Control's SAC and PPO ([`crate::control::fast`]), vision's CNNs
//! ([`crate::vision::fast`]) and the LLM's update ([`crate::llm::fast`]) are written on it; none of
//! them depends on another.
//!
//! - [`kernels`]: `C = A·B` (optionally transposed operands) and the run-time choice of AVX-512 or
//!   AVX2 for element-wise loops;
//! - [`adam`]: Adam and AdamW on flat parameter slices;
//! - [`barrier`]: a spinning barrier for two lanes that meet thousands of times a second;
//! - [`parts`]: parameters and optimiser state as checkpoint parts.

pub mod adam;
pub mod barrier;
pub mod kernels;
pub mod parts;

pub use adam::Adam;
pub use barrier::SpinBarrier;
pub(crate) use kernels::widened;
pub use kernels::{View, matmul, matmul_view};
pub use parts::{ReadPart, State, read_part, write_part};
