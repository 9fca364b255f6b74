//! Row-by-row reading of the CSV data files, with errors that name the file.

use csv::StringRecord;

use crate::source::Source;
use crate::Error;

/// One data row, with its file's header for tables whose columns are data (agreements).
pub(crate) struct Row<'a> {
    record: &'a StringRecord,
    /// The header row.
    pub(crate) headers: &'a StringRecord,
    /// The file, for error messages.
    pub(crate) file: &'a str,
}

impl Row<'_> {
    /// Field `i`, trimmed; empty when the row is short.
    pub(crate) fn get(&self, i: usize) -> &str {
        self.record.get(i).unwrap_or("").trim()
    }

    /// Field `i` as an owned string, `None` when empty.
    pub(crate) fn optional(&self, i: usize) -> Option<String> {
        let value = self.get(i);
        (!value.is_empty()).then(|| value.to_owned())
    }

    /// All fields, untrimmed.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &str> {
        self.record.iter()
    }

    /// An error about this row's file.
    pub(crate) fn bad(&self, message: impl Into<String>) -> Error {
        Error::bad(self.file, message)
    }
}

/// Calls `each` for every data row of `file` (the header is not a row), reusing one buffer.
pub(crate) fn for_each_row(
    source: &Source,
    file: &str,
    mut each: impl FnMut(&Row<'_>) -> Result<(), Error>,
) -> Result<(), Error> {
    let text = source.read(file)?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| Error::csv(file, e))?.clone();
    let mut record = StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|e| Error::csv(file, e))?
    {
        each(&Row {
            record: &record,
            headers: &headers,
            file,
        })?;
    }
    Ok(())
}
