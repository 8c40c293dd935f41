//! Libraries that panic on bad input instead of returning an error (the `tokenizers` library on
//! some malformed JSON, burn's recorder on corrupt records, the `parquet` crate on corrupt files, a
//! backend whose driver is missing): their panics as errors, with nothing printed.

use std::sync::{Mutex, PoisonError};

/// Runs `f`; a panic inside it becomes `Err` with the panic's message. The panic hook is a silent
/// one meanwhile, so the user sees era's one-line error instead of a panic report; a lock keeps two
/// callers from swapping the hook at once (which could leave the silent one installed for good).
pub fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: Mutex<()> = Mutex::new(());
    let _one = HOOK.lock().unwrap_or_else(PoisonError::into_inner);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no reason given")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message_and_a_value_passes_through() {
        assert_eq!(quietly(|| 7), Ok(7));
        assert_eq!(quietly(|| -> u8 { panic!("bad byte {}", 3) }), Err("bad byte 3".to_string()));
        assert_eq!(quietly(|| -> u8 { std::panic::panic_any(5u32) }), Err("no reason given".to_string()));
        // The hook in place before is back: a second call behaves the same.
        assert_eq!(quietly(|| -> () { panic!("again") }), Err("again".to_string()));
    }
}
