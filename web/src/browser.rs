//! The browser's asynchronous calls the explorers share: waiting without blocking the page, the
//! clock, and reading files and URLs as bytes.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Resolves after `ms` milliseconds, letting the browser paint and handle input meanwhile.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Milliseconds since the page loaded (`performance.now()`).
pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// Copies an `ArrayBuffer` into Rust memory.
fn bytes_of(buffer: wasm_bindgen::JsValue) -> Vec<u8> {
    js_sys::Uint8Array::new(&buffer).to_vec()
}

/// Fetches `url` as bytes (beside the page: the caller checks that it is relative).
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url)).await.map_err(|e| format!("{url}: {e:?}"))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| format!("{url}: not a response"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let buffer = response.array_buffer().map_err(|e| format!("{url}: {e:?}"))?;
    Ok(bytes_of(JsFuture::from(buffer).await.map_err(|e| format!("{url}: {e:?}"))?))
}

/// Reads a file the visitor chose as bytes.
pub async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let name = file.name();
    Ok(bytes_of(JsFuture::from(file.array_buffer()).await.map_err(|e| format!("{name}: {e:?}"))?))
}
