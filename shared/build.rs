//! With the `mujoco` feature, records MuJoCo's library directory (MUJOCO_DYNAMIC_LINK_DIR, from
//! scripts/setup-mujoco.sh) as a run-time search path, so the binaries and tests find
//! libmujoco.so without LD_LIBRARY_PATH.

fn main() {
    println!("cargo::rerun-if-env-changed=MUJOCO_DYNAMIC_LINK_DIR");
    let unix = matches!(std::env::var("CARGO_CFG_TARGET_OS").as_deref(), Ok("linux" | "macos"));
    if std::env::var_os("CARGO_FEATURE_MUJOCO").is_some()
        && unix
        && let Some(dir) = std::env::var_os("MUJOCO_DYNAMIC_LINK_DIR")
    {
        println!("cargo::rustc-link-arg=-Wl,-rpath,{}", dir.to_string_lossy());
    }
}
