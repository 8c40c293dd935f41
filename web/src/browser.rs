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

/// Offers `href` (a data or object URL) to the visitor as a download named `name`.
fn save(href: &str, name: &str) -> Result<(), String> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(|e| format!("{e:?}"))?.dyn_into().map_err(|_| "not an anchor")?;
    a.set_href(href);
    a.set_download(name);
    a.click();
    Ok(())
}

/// Offers `text` as a download named `name` of type `mime`.
pub fn download_text(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(|e| format!("{e:?}"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    let saved = save(&url, name);
    // Freed once the browser has surely fetched it (revoking at once can cancel the download).
    wasm_bindgen_futures::spawn_local(async move {
        sleep(60_000).await;
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    saved
}

/// Offers the canvas' pixels as a PNG download named `name`.
pub fn download_png(canvas: &web_sys::HtmlCanvasElement, name: &str) -> Result<(), String> {
    save(&canvas.to_data_url().map_err(|e| format!("{e:?}"))?, name)
}
