//! Table-driven mapping between XML elements and model fields.
//!
//! Each record type (DecHead, DecList, ...) lists its `(element name → field)` pairs once, in
//! [`record!`] invocations; reading and writing both come from that one list, so the two
//! directions cannot drift apart.

use std::str::FromStr;

use chrono::NaiveDate;
use jinguan_types::{Diagnostic, IeFlag, Severity};
use rust_decimal::Decimal;

/// Where a value is being read, for diagnostics.
pub(crate) struct FieldContext<'a> {
    pub path: &'a str,
    pub element: &'a str,
    pub diagnostics: &'a mut Vec<Diagnostic>,
}

impl FieldContext<'_> {
    fn bad(&mut self, code: &str, what: &str, text: &str) {
        let shown: String = text.chars().take(64).collect();
        self.diagnostics.push(Diagnostic::new(
            Severity::Error,
            code,
            format!("{}/{}", self.path, self.element),
            format!("{shown:?} is not {what}; the value was dropped"),
        ));
    }
}

/// A model field that reads from and writes to element text.
pub(crate) trait FieldValue {
    /// Reads element text (already trimmed, never empty).
    fn read(&mut self, text: &str, context: &mut FieldContext<'_>);
    /// The text to write, or `None` to leave the element out.
    fn text(&self) -> Option<String>;
}

impl FieldValue for Option<String> {
    fn read(&mut self, text: &str, _: &mut FieldContext<'_>) {
        *self = Some(text.to_owned());
    }
    fn text(&self) -> Option<String> {
        self.clone()
    }
}

impl FieldValue for Option<Decimal> {
    fn read(&mut self, text: &str, context: &mut FieldContext<'_>) {
        match Decimal::from_str(text) {
            Ok(value) => *self = Some(value),
            Err(_) => context.bad("D0001", "a decimal number", text),
        }
    }
    fn text(&self) -> Option<String> {
        self.map(|v| v.to_string())
    }
}

impl FieldValue for Option<u32> {
    fn read(&mut self, text: &str, context: &mut FieldContext<'_>) {
        match text.parse() {
            Ok(value) => *self = Some(value),
            Err(_) => context.bad("D0002", "a whole number", text),
        }
    }
    fn text(&self) -> Option<String> {
        self.map(|v| v.to_string())
    }
}

impl FieldValue for Option<NaiveDate> {
    fn read(&mut self, text: &str, context: &mut FieldContext<'_>) {
        let parsed = NaiveDate::parse_from_str(text, "%Y%m%d")
            .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"));
        match parsed {
            Ok(value) => *self = Some(value),
            Err(_) => context.bad("D0003", "a date (yyyyMMdd)", text),
        }
    }
    fn text(&self) -> Option<String> {
        self.map(|d| d.format("%Y%m%d").to_string())
    }
}

impl FieldValue for Option<IeFlag> {
    fn read(&mut self, text: &str, context: &mut FieldContext<'_>) {
        match IeFlag::parse(text) {
            Ok(value) => *self = Some(value),
            Err(_) => context.bad("D0004", "an import/export flag (I or E)", text),
        }
    }
    fn text(&self) -> Option<String> {
        self.map(|f| f.as_str().to_owned())
    }
}

/// A record whose fields map to child elements.
pub(crate) trait Record {
    /// Reads one child element; returns false when the name is not a field of the record.
    fn set(&mut self, element: &str, text: &str, context: &mut FieldContext<'_>) -> bool;
    /// Calls `emit(element name, text)` for every set field, in wire order.
    fn each(&self, emit: &mut dyn FnMut(&str, &str));
    /// Fields kept verbatim because the model does not name them.
    fn other_fields(&mut self) -> &mut Vec<(String, String)>;
}

/// Implements [`Record`] from one list of `"Element" => field.path` pairs. Extra names after
/// `|` are accepted on input and written under the first name.
macro_rules! record {
    ($ty:ty { $($xml:literal $(| $alias:literal)* => $($field:ident).+),* $(,)? }) => {
        impl $crate::fields::Record for $ty {
            fn set(
                &mut self,
                element: &str,
                text: &str,
                context: &mut $crate::fields::FieldContext<'_>,
            ) -> bool {
                match element {
                    $($xml $(| $alias)* => {
                        $crate::fields::FieldValue::read(&mut self.$($field).+, text, context);
                        true
                    })*
                    _ => false,
                }
            }

            fn each(&self, emit: &mut dyn FnMut(&str, &str)) {
                $(
                    if let Some(text) = $crate::fields::FieldValue::text(&self.$($field).+) {
                        emit($xml, &text);
                    }
                )*
                for (name, text) in &self.other_fields {
                    emit(name, text);
                }
            }

            fn other_fields(&mut self) -> &mut Vec<(String, String)> {
                &mut self.other_fields
            }
        }
    };
}
pub(crate) use record;
