//! The input layout of the stream targets, simple enough to write seeds by
//! hand: byte 0 is a count `k`, the next `k` bytes are read sizes (`c`
//! means a read of `c + 1` bytes), and everything after them is the byte
//! stream. Once the sizes run out, each read takes all the framer offers.

/// The read sizes and the stream of one input.
pub(crate) struct Reads<'a> {
    sizes: &'a [u8],
    /// The byte stream.
    pub(crate) stream: &'a [u8],
}

impl<'a> Reads<'a> {
    /// Splits an input; an empty one is an empty stream.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        let Some((&k, rest)) = data.split_first() else {
            return Reads {
                sizes: &[],
                stream: &[],
            };
        };
        let (sizes, stream) = rest.split_at(usize::from(k).min(rest.len()));
        Reads { sizes, stream }
    }

    /// The size of read number `i`, at most `space` bytes.
    pub(crate) fn size(&self, i: usize, space: usize) -> usize {
        self.sizes
            .get(i)
            .map_or(space, |&c| (usize::from(c) + 1).min(space))
    }

    /// The stream cut into chunks of [`size`](Self::size) (at most `max`
    /// bytes, at least one), each with the pause before it that
    /// `pause(size, index)` gives.
    pub(crate) fn chunks(
        &self,
        max: usize,
        pause: impl Fn(usize, usize) -> std::time::Duration,
    ) -> Vec<(&'a [u8], std::time::Duration)> {
        let mut chunks = Vec::new();
        let mut at = 0;
        for i in 0.. {
            if at == self.stream.len() {
                break;
            }
            let n = self.size(i, max).max(1).min(self.stream.len() - at);
            chunks.push((&self.stream[at..at + n], pause(n, i)));
            at += n;
        }
        chunks
    }
}
