//! Everything a received interchange goes through before it is acknowledged: the envelope and
//! repertoire checks (`check`), then every message validated against the shipped UN directory
//! its `UNH` names (`validate_interchange` with `jinguan_unece::for_message`), and whatever they
//! found must be reportable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let interchange = jinguan_edifact::check(input);
    let found =
        jinguan_edifact::validate_interchange(input, &interchange, jinguan_unece::for_message);
    for diagnostic in interchange.diagnostics.iter().chain(&found) {
        assert!(diagnostic.offset <= input.len(), "{diagnostic}");
        // What a CONTRL or a receipt would say: formatting must not panic either.
        let _ = diagnostic.to_string();
    }
    let _ = interchange.is_acceptable();
});
