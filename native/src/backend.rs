//! The one place that names burn backends: the CPU (ndarray) or a GPU through wgpu.
//!
//! Library code is generic over `B: AutodiffBackend`; a command implements [`Task`] once and
//! [`run`] instantiates it for the chosen backend.

use std::fmt;

use burn::backend::wgpu::WgpuDevice;
use burn::backend::{Autodiff, NdArray, Wgpu};
use burn::tensor::backend::AutodiffBackend;
use clap::ValueEnum;

/// The CPU backend used for tests and as the fallback.
pub type Cpu = Autodiff<NdArray<f32>>;
/// The GPU backend.
pub type Gpu = Autodiff<Wgpu>;

/// `--backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendChoice {
    /// wgpu on a real GPU adapter if there is one, else ndarray (a software adapter such as
    /// lavapipe is slower than ndarray, so it is not chosen).
    Auto,
    /// wgpu, on whatever adapter it finds (forces a software adapter too).
    Wgpu,
    /// ndarray on the CPU: deterministic for a seed.
    Ndarray,
    /// The fast CPU path (control: SAC and PPO): hand-written gradients on AVX-512/AVX2 matrix
    /// kernels, several times faster than ndarray for the same numbers; deterministic for a seed on a
    /// given machine.
    Fast,
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Wgpu => "wgpu",
            Self::Ndarray => "ndarray",
            Self::Fast => "fast",
        })
    }
}

/// Work generic over the backend.
pub trait Task {
    /// What the work returns.
    type Output;
    /// Whether the work can run on the fast CPU path (`--backend fast`); it then runs on the CPU
    /// backend with `backend` = `"fast"` (see [`engine`]).
    const FAST: bool = false;
    /// Runs on backend `B` and its device.
    fn run<B: AutodiffBackend>(self, device: B::Device, backend: &str) -> Self::Output;
}

/// The control engine a backend name stands for: the fast CPU path for `fast`, burn otherwise.
pub fn engine(backend: &str) -> era_shared::control::engine::Engine {
    use era_shared::control::engine::Engine;
    if backend == "fast" { Engine::Fast } else { Engine::Burn }
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

/// Fails, naming the fix, when `choice` cannot work here (`wgpu` with no adapter at all).
pub fn ensure_available(choice: BackendChoice) -> anyhow::Result<()> {
    if choice == BackendChoice::Wgpu && adapters().is_empty() {
        anyhow::bail!(
            "--backend wgpu: no GPU adapter found (wgpu needs a Vulkan, Metal or DX12 driver and its loader, e.g. \
             Debian's libvulkan1 with a GPU driver or mesa-vulkan-drivers); use --backend ndarray"
        );
    }
    Ok(())
}

/// Resolves `choice` to a concrete backend, saying on stderr what it chose and why, and runs `task` on it.
/// Fails, instead of letting wgpu panic, when `--backend wgpu` finds no adapter at all.
pub fn run<T: Task>(choice: BackendChoice, task: T) -> anyhow::Result<T::Output> {
    let use_gpu = match choice {
        BackendChoice::Fast if !T::FAST => anyhow::bail!(
            "--backend fast: the fast CPU path runs control training (SAC, PPO) and its benchmarks only; use --backend ndarray"
        ),
        BackendChoice::Fast => return Ok(task.run::<Cpu>(Default::default(), "fast")),
        BackendChoice::Ndarray => false,
        BackendChoice::Wgpu => {
            ensure_available(choice)?;
            true
        }
        BackendChoice::Auto => {
            let found = adapters();
            match found.iter().find(|(_, real)| *real) {
                Some((name, _)) => {
                    eprintln!("era: backend wgpu on {name} (--backend auto)");
                    true
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
                    eprintln!("era: backend ndarray on the CPU ({why}; --backend wgpu forces wgpu)");
                    false
                }
            }
        }
    };
    Ok(if use_gpu {
        task.run::<Gpu>(WgpuDevice::DefaultDevice, "wgpu")
    } else {
        task.run::<Cpu>(Default::default(), "ndarray")
    })
}
