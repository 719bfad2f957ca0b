//! The terminal's font size. A phone's 390 px hold 47 columns at the default size, and Claude
//! Code's screens assume about 80: the key bar's A− and A+ change it for every terminal on the
//! page, and the device remembers it (localStorage) for the next page and the next visit.

/// The size a device starts with, in CSS pixels.
pub const DEFAULT: u8 = 14;
/// Small enough for 80 columns on a phone, still legible on its dense screen.
const MIN: u8 = 6;
const MAX: u8 = 28;
#[cfg(feature = "hydrate")]
const STORAGE_KEY: &str = "terminal-font-size";

pub fn smaller(size: u8) -> u8 {
    size.saturating_sub(1).clamp(MIN, MAX)
}

pub fn larger(size: u8) -> u8 {
    size.saturating_add(1).clamp(MIN, MAX)
}

/// A stored size, if it is one.
#[cfg(any(feature = "hydrate", test))]
fn parse(stored: &str) -> Option<u8> {
    stored
        .trim()
        .parse::<u8>()
        .ok()
        .map(|size| size.clamp(MIN, MAX))
}

/// The size this device chose last; the default before any choice (and on the server, which
/// renders nothing that depends on it).
pub fn remembered() -> u8 {
    #[cfg(feature = "hydrate")]
    if let Some(size) = storage()
        .and_then(|storage| storage.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|stored| parse(&stored))
    {
        return size;
    }
    DEFAULT
}

#[cfg(feature = "hydrate")]
pub fn remember(size: u8) {
    if let Some(storage) = storage() {
        storage.set_item(STORAGE_KEY, &size.to_string()).ok();
    }
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_stay_within_bounds() {
        assert_eq!(smaller(DEFAULT), DEFAULT - 1);
        assert_eq!(larger(DEFAULT), DEFAULT + 1);
        assert_eq!(smaller(MIN), MIN);
        assert_eq!(larger(MAX), MAX);
    }

    #[test]
    fn stored_sizes_are_checked() {
        assert_eq!(parse("9"), Some(9));
        assert_eq!(parse(" 12\n"), Some(12));
        assert_eq!(parse("1"), Some(MIN));
        assert_eq!(parse("200"), Some(MAX));
        assert_eq!(parse("big"), None);
        assert_eq!(parse("-3"), None);
    }
}
