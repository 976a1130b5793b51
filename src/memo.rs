//! Process-wide memos for measurements taken once per adapter (ceilings, read bounds): a suite
//! asks for the same ones again and again.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use crate::error::Result;

/// A memo's storage: `static M: Memo<K, V> = Memo::new(None);`.
pub(crate) type Memo<K, V> = Mutex<Option<HashMap<K, V>>>;

/// The value for `key`: the memoised one, else `measure()`'s, kept. The lock is not held while
/// `measure` runs (it takes seconds and may consult another memo); an error is not kept.
pub(crate) fn memoized<K: Hash + Eq, V: Clone>(
    memo: &Memo<K, V>,
    key: K,
    measure: impl FnOnce() -> Result<V>,
) -> Result<V> {
    let held = memo
        .lock()
        .expect("memo lock")
        .get_or_insert_with(HashMap::new)
        .get(&key)
        .cloned();
    if let Some(v) = held {
        return Ok(v);
    }
    let v = measure()?;
    memo.lock()
        .expect("memo lock")
        .get_or_insert_with(HashMap::new)
        .insert(key, v.clone());
    Ok(v)
}
