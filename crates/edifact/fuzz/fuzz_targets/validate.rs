//! Everything a received interchange goes through before it is acknowledged: for now the
//! envelope and repertoire checks (`check`), and whatever they found must be reportable.
//!
//! Hook: when the directory validator lands (`validate.rs`), call it here on the same input
//! after `check`, with the directory the UNH names, so the fuzzer reaches it through the same
//! bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let interchange = jinguan_edifact::check(input);
    for diagnostic in &interchange.diagnostics {
        // What a CONTRL or a receipt would say: formatting must not panic either.
        let _ = diagnostic.to_string();
    }
    let _ = interchange.is_acceptable();
    // The directory validator's call goes here (see the module documentation).
});
