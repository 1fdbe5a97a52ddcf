//! Mapping a slice on every core with scoped threads (the crate stays free of async).

use std::num::NonZeroUsize;
use std::thread;

/// Below this many items a map runs on the calling thread: starting threads costs more.
const MIN_PARALLEL: usize = 64;

/// `items.iter().map(f).collect()`, with the work split into one contiguous chunk per
/// available core. The result keeps the order of `items`.
pub(crate) fn par_map<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    if threads < 2 || items.len() < MIN_PARALLEL {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for handle in handles {
            match handle.join() {
                Ok(part) => out.extend(part),
                // A panic in `f` is a bug; carry it to the caller unchanged.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = par_map(&items, |x| x * 2);
        assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert_eq!(par_map(&items[..3], |x| x + 1), [1, 2, 3]);
    }
}
