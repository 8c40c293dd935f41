//! The one place that names burn backends: the CPU (ndarray), a GPU through wgpu, or an NVIDIA GPU
//! through CUDA (with the `cuda` feature).
//!
//! Library code is generic over `B: AutodiffBackend`; a command implements [`Task`] once and
//! [`run`] instantiates it for the chosen backend.

use std::fmt;

use burn::backend::wgpu::WgpuDevice;
use burn::backend::{Autodiff, NdArray, Wgpu};
use burn::tensor::backend::AutodiffBackend;
use clap::ValueEnum;
use era_shared::train::Engine;

/// The CPU backend used for tests and as the fallback.
pub type Cpu = Autodiff<NdArray<f32>>;
/// The GPU backend.
pub type Gpu = Autodiff<Wgpu>;
/// NVIDIA GPUs through CUDA (the driver and NVRTC are loaded at run time).
#[cfg(feature = "cuda")]
pub type Cuda = Autodiff<burn::backend::Cuda>;

/// `--backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendChoice {
    /// CUDA when this build has it and an NVIDIA GPU answers, else wgpu on a real GPU adapter if
    /// there is one, else ndarray (a software adapter such as lavapipe is slower than ndarray, so it
    /// is not chosen).
    Auto,
    /// CUDA on NVIDIA GPU 0 (builds with the `cuda` feature).
    Cuda,
    /// wgpu, on whatever adapter it finds (forces a software adapter too).
    Wgpu,
    /// ndarray on the CPU: deterministic for a seed.
    Ndarray,
    /// The fast CPU path (control: SAC and PPO; vision: the small CNN and the ResNets; the LLM's
    /// updates, with generation on ndarray): hand-written gradients on AVX-512/AVX2 matrix kernels,
    /// several times faster than ndarray for the same numbers; deterministic for a seed on a given
    /// machine.
    Fast,
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Cuda => "cuda",
            Self::Wgpu => "wgpu",
            Self::Ndarray => "ndarray",
            Self::Fast => "fast",
        })
    }
}

impl BackendChoice {
    /// The engine this choice asks for explicitly: the fast path for `fast`, burn otherwise (what a
    /// run saved with this choice wrote its checkpoints with, in domains where `auto` never picks the
    /// fast path).
    pub fn engine(self) -> Engine {
        if self == Self::Fast { Engine::Fast } else { Engine::Burn }
    }
}

/// The backend a run computes on, resolved once from [`BackendChoice`]: the value [`Task::run`]
/// receives beside the backend's type, and what progress lines, bench records and logs print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compute {
    /// burn's ndarray backend on the CPU.
    Ndarray,
    /// The fast CPU path (its sampling and anything without a fast path on ndarray).
    Fast,
    /// burn's wgpu backend.
    Wgpu,
    /// burn's CUDA backend on NVIDIA GPU 0.
    #[cfg(feature = "cuda")]
    Cuda,
}

impl Compute {
    /// Which implementation computes the updates.
    pub fn engine(self) -> Engine {
        if self == Self::Fast { Engine::Fast } else { Engine::Burn }
    }

    /// The device, for benchmark records: `(description, whether it is a real GPU)`; for wgpu, the
    /// adapters it can choose from.
    pub fn device(self) -> (String, bool) {
        match self {
            #[cfg(feature = "cuda")]
            Self::Cuda => ("NVIDIA GPU 0 (CUDA)".into(), true),
            Self::Wgpu => {
                let found = adapters();
                let real = found.iter().any(|(_, real)| *real);
                let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
                (names.join(", "), real)
            }
            Self::Ndarray | Self::Fast => ("CPU".into(), false),
        }
    }
}

impl fmt::Display for Compute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ndarray => "ndarray",
            Self::Fast => "fast",
            Self::Wgpu => "wgpu",
            #[cfg(feature = "cuda")]
            Self::Cuda => "cuda",
        })
    }
}

/// Work generic over the backend.
pub trait Task {
    /// What the work returns.
    type Output;
    /// Whether the work can run on the fast CPU path (`--backend fast`); it then runs on the CPU
    /// backend with [`Compute::Fast`].
    const FAST: bool = false;
    /// Whether `--backend auto` takes the fast path instead of ndarray when it falls back to the CPU
    /// and the CPU has AVX2 or AVX-512 (vision training).
    const FAST_ON_CPU: bool = false;
    /// Runs on backend `B` and its device.
    fn run<B: AutodiffBackend>(self, device: B::Device, compute: Compute) -> Self::Output;
}

/// The GPU adapters wgpu finds, as `(name, is a real GPU)`.
pub fn adapters() -> Vec<(String, bool)> {
    // Vulkan, Metal, DX12 and WebGPU only: burn's wgpu backend does not use OpenGL, and probing it
    // prints display-server errors on headless machines.
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::PRIMARY,
        ..wgpu::InstanceDescriptor::new_without_display_handle_from_env()
    });
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY))
        .into_iter()
        .map(|a| {
            let info = a.get_info();
            (
                format!("{} ({:?}, {:?})", info.name, info.device_type, info.backend),
                info.device_type != wgpu::DeviceType::Cpu,
            )
        })
        .collect()
}

/// Whether CUDA answers here: a one-element tensor goes to NVIDIA GPU 0 and back. The CUDA libraries
/// are loaded at run time, and their absence is a panic inside the backend: it is caught (and kept
/// off stderr) and becomes the reason.
#[cfg(feature = "cuda")]
pub fn cuda_answers() -> Result<(), String> {
    use burn::tensor::Tensor;
    let probe = era_shared::panics::quietly(|| {
        let device = burn::backend::cuda::CudaDevice::default();
        Tensor::<burn::backend::Cuda, 1>::from_floats([1.0], &device).into_data().to_vec::<f32>().ok()
    });
    match probe {
        Ok(Some(v)) if v == [1.0] => Ok(()),
        Ok(_) => Err("the CUDA device returned a wrong value".into()),
        Err(why) => {
            // The loading error itself is raised on the backend's own thread; what reaches here is
            // often only its consequence, so name the usual cause first.
            Err(format!(
                "no NVIDIA GPU answers through CUDA (is an NVIDIA driver, libcuda.so, installed? the backend said: {})",
                why.lines().next().unwrap_or(&why)
            ))
        }
    }
}

/// Without the `cuda` feature: why CUDA is not available.
#[cfg(not(feature = "cuda"))]
pub fn cuda_answers() -> Result<(), String> {
    Err("this era was built without CUDA (build it with `--features cuda`, see README.md)".into())
}

/// Fails, naming the fix, when `choice` cannot work here (`wgpu` with no adapter at all, `cuda`
/// without a driver or without the feature).
pub fn ensure_available(choice: BackendChoice) -> anyhow::Result<()> {
    if choice == BackendChoice::Cuda
        && let Err(why) = cuda_answers()
    {
        anyhow::bail!("--backend cuda: {why}; use --backend wgpu or ndarray");
    }
    if choice == BackendChoice::Wgpu && adapters().is_empty() {
        anyhow::bail!(
            "--backend wgpu: no GPU adapter found (wgpu needs a Vulkan, Metal or DX12 driver and its loader, e.g. \
             Debian's libvulkan1 with a GPU driver or mesa-vulkan-drivers); use --backend ndarray"
        );
    }
    Ok(())
}

/// Resolves `choice` to a concrete backend, saying on stderr what it chose and why, and runs `task` on it.
/// Fails, instead of letting wgpu or CUDA panic, when the backend asked for cannot run here.
pub fn run<T: Task>(choice: BackendChoice, task: T) -> anyhow::Result<T::Output> {
    let resolved = match choice {
        BackendChoice::Fast if !T::FAST => anyhow::bail!(
            "--backend fast: the fast CPU path runs training, evaluation, generation and benchmarks only; use --backend ndarray"
        ),
        BackendChoice::Fast => Compute::Fast,
        BackendChoice::Ndarray => Compute::Ndarray,
        BackendChoice::Wgpu => {
            ensure_available(choice)?;
            Compute::Wgpu
        }
        BackendChoice::Cuda => {
            ensure_available(choice)?;
            #[cfg(feature = "cuda")]
            {
                Compute::Cuda
            }
            #[cfg(not(feature = "cuda"))]
            unreachable!("ensure_available refuses cuda without the feature")
        }
        BackendChoice::Auto => auto(),
    };
    let resolved = if resolved == Compute::Ndarray && choice == BackendChoice::Auto && T::FAST_ON_CPU && wide_vectors()
    {
        eprintln!("era: the fast CPU path (--backend auto on a CPU with AVX2; --backend ndarray forces ndarray)");
        Compute::Fast
    } else {
        resolved
    };
    Ok(match resolved {
        Compute::Ndarray | Compute::Fast => task.run::<Cpu>(Default::default(), resolved),
        Compute::Wgpu => task.run::<Gpu>(WgpuDevice::DefaultDevice, resolved),
        #[cfg(feature = "cuda")]
        Compute::Cuda => task.run::<Cuda>(Default::default(), resolved),
    })
}

/// Whether the CPU has the vector units the fast path is written for (AVX2 or AVX-512).
fn wide_vectors() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `--backend auto`: CUDA if built in and answering, then a real wgpu adapter, then the CPU; says
/// which and why on stderr.
fn auto() -> Compute {
    let cuda = cuda_answers();
    #[cfg(feature = "cuda")]
    if cuda.is_ok() {
        eprintln!("era: backend cuda on NVIDIA GPU 0 (--backend auto)");
        return Compute::Cuda;
    }
    let no_cuda = cuda.err().unwrap_or_default();
    let found = adapters();
    match found.iter().find(|(_, real)| *real) {
        Some((name, _)) => {
            eprintln!("era: backend wgpu on {name} (--backend auto; {no_cuda})");
            Compute::Wgpu
        }
        None => {
            let why = if found.is_empty() {
                "no GPU adapter found".to_string()
            } else {
                format!(
                    "only software adapters: {}",
                    found.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                )
            };
            eprintln!("era: backend ndarray on the CPU ({no_cuda}; {why}; --backend wgpu forces wgpu)");
            Compute::Ndarray
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Work that has no fast path.
    struct Burnonly;

    impl Task for Burnonly {
        type Output = ();

        fn run<B: AutodiffBackend>(self, _device: B::Device, _compute: Compute) {}
    }

    #[test]
    fn work_without_a_fast_path_refuses_backend_fast_naming_the_alternative() {
        let e = run(BackendChoice::Fast, Burnonly).unwrap_err().to_string();
        assert!(e.contains("--backend fast") && e.contains("--backend ndarray"), "{e}");
        assert!(run(BackendChoice::Ndarray, Burnonly).is_ok());
    }
}
