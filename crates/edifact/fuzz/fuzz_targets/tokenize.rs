//! The tokenizer and the envelope check (with the repertoire check) on any bytes: no panic,
//! every segment a slice of the input at its offset, every diagnostic inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let mut tokenizer = jinguan_edifact::Tokenizer::new(input);
    for (index, segment) in tokenizer.by_ref().enumerate() {
        assert_eq!(segment.index, index);
        let end = segment.offset + segment.raw.len();
        assert_eq!(&input[segment.offset..end], segment.raw);
        assert!(segment.raw.starts_with(segment.tag));
        for element in segment.elements() {
            let _ = element.value();
            for component in element.components() {
                let _ = jinguan_edifact::unescape(component, &segment.separators());
            }
        }
    }
    for diagnostic in tokenizer.diagnostics() {
        assert!(diagnostic.offset <= input.len());
    }
    let interchange = jinguan_edifact::check(input);
    for diagnostic in &interchange.diagnostics {
        assert!(diagnostic.offset <= input.len(), "{diagnostic}");
    }
});
