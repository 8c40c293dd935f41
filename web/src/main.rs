//! The era explorer in the browser (built with trunk from `index.html`).
//!
//! For now one placeholder page that computes with `era-shared`: the softmax floor applied to a fixed
//! 4-class example for the `H₀` a visitor types, with the valid range of `H₀`.

#[cfg(target_arch = "wasm32")]
mod app;

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

/// The explorer only runs in a browser; host builds exist so the workspace builds and lints as one.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("era-web runs in the browser: build it with `trunk build` (see README.md)");
}
