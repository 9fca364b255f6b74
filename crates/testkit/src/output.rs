//! Streams of declarations and their JSON-lines output, sequential and parallel.

use std::io::{self, Write};
use std::ops::Range;
use std::sync::mpsc;

use jinguan_types::declaration::Declaration;

use crate::Generator;

/// Declarations per parallel chunk: large enough that channel traffic is negligible, small
/// enough (a few megabytes of JSON) that buffers stay modest.
const CHUNK: u64 = 1024;
/// Bytes buffered before a sequential writer is flushed to its sink.
const FLUSH_AT: usize = 1 << 16;

impl Generator {
    /// The declarations with indexes in `range`, in order. Each is built independently, so a
    /// range gives the same declarations as the same indexes within a larger range.
    pub fn declarations(&self, range: Range<u64>) -> impl Iterator<Item = Declaration> + '_ {
        range.map(move |index| self.declaration(index))
    }

    /// Writes the declarations with indexes in `range` as JSON lines: one compact JSON
    /// object per declaration, each followed by a newline.
    pub fn write_json_lines(&self, range: Range<u64>, out: &mut impl Write) -> io::Result<()> {
        let mut buffer = Vec::with_capacity(FLUSH_AT * 2);
        for index in range {
            self.append_json_line(index, &mut buffer)?;
            if buffer.len() >= FLUSH_AT {
                out.write_all(&buffer)?;
                buffer.clear();
            }
        }
        out.write_all(&buffer)
    }

    /// Writes declarations `0..count` as JSON lines using `threads` generator threads. The
    /// output is byte-identical to [`Generator::write_json_lines`] over the same range.
    ///
    /// Thread `t` builds chunks `t`, `t + threads`, ... into buffers and hands them over a
    /// channel of two slots; the calling thread writes them in chunk order. Each thread is at
    /// most a couple of chunks ahead, so memory stays bounded whatever `count` is.
    pub fn write_json_lines_parallel(
        &self,
        count: usize,
        threads: usize,
        out: &mut impl Write,
    ) -> io::Result<()> {
        let count = count as u64;
        let threads = threads.max(1);
        let chunks = count.div_ceil(CHUNK);
        if threads == 1 || chunks <= 1 {
            return self.write_json_lines(0..count, out);
        }
        let workers = (threads as u64).min(chunks);
        std::thread::scope(|scope| {
            let mut receivers = Vec::with_capacity(workers as usize);
            let mut recyclers = Vec::with_capacity(workers as usize);
            for worker in 0..workers {
                let (sender, receiver) = mpsc::sync_channel::<io::Result<Vec<u8>>>(2);
                // Written buffers come back for reuse, which spares a fresh multi-megabyte
                // allocation (and its page faults) per chunk.
                let (recycle, recycled) = mpsc::channel::<Vec<u8>>();
                receivers.push(receiver);
                recyclers.push(recycle);
                scope.spawn(move || {
                    for chunk in (worker..chunks).step_by(workers as usize) {
                        let range = chunk * CHUNK..((chunk + 1) * CHUNK).min(count);
                        let mut buffer = recycled.try_recv().unwrap_or_else(|_| {
                            // About 4 kB per declaration: one allocation per chunk.
                            Vec::with_capacity((range.end - range.start) as usize * 4096)
                        });
                        let result = range
                            .clone()
                            .try_for_each(|index| self.append_json_line(index, &mut buffer))
                            .map(|()| buffer);
                        // The writer hung up (it failed): stop quietly, it reports the error.
                        if sender.send(result).is_err() {
                            return;
                        }
                    }
                });
            }
            for chunk in 0..chunks {
                let worker = (chunk % workers) as usize;
                let mut buffer = receivers[worker]
                    .recv()
                    .map_err(|_| io::Error::other("a generator thread stopped early"))??;
                out.write_all(&buffer)?;
                buffer.clear();
                // The worker may have finished; then the buffer is simply dropped.
                let _ = recyclers[worker].send(buffer);
            }
            Ok(())
        })
    }

    /// Appends declaration `index` and a newline to `buffer`.
    fn append_json_line(&self, index: u64, buffer: &mut Vec<u8>) -> io::Result<()> {
        serde_json::to_writer(&mut *buffer, &self.declaration(index))?;
        buffer.push(b'\n');
        Ok(())
    }
}
