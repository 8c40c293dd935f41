//! With the `mujoco` feature, records where `era` finds libmujoco.so at run time, so it runs without
//! LD_LIBRARY_PATH: `ERA_MUJOCO_RPATH` when set (a release archive sets `$ORIGIN/../lib`, the library
//! beside the binary, so the unpacked folder can be moved), else MuJoCo's library directory
//! (MUJOCO_DYNAMIC_LINK_DIR, from scripts/setup-mujoco.sh).

fn main() {
    println!("cargo::rerun-if-env-changed=MUJOCO_DYNAMIC_LINK_DIR");
    println!("cargo::rerun-if-env-changed=ERA_MUJOCO_RPATH");
    let unix = matches!(std::env::var("CARGO_CFG_TARGET_OS").as_deref(), Ok("linux" | "macos"));
    if std::env::var_os("CARGO_FEATURE_MUJOCO").is_none() || !unix {
        return;
    }
    let dir = std::env::var_os("ERA_MUJOCO_RPATH").or_else(|| std::env::var_os("MUJOCO_DYNAMIC_LINK_DIR"));
    if let Some(dir) = dir {
        println!("cargo::rustc-link-arg=-Wl,-rpath,{}", dir.to_string_lossy());
    }
}
