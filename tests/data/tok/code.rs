//! A tiny LRU cache, for the tokenizer test corpus.
use std::collections::HashMap;
use std::fmt::{self, Display};
use std::hash::Hash;

#[derive(Debug, Clone, PartialEq)]
pub struct Lru<K: Hash + Eq + Clone, V> {
    cap: usize,
    map: HashMap<K, (V, u64)>,
    tick: u64,
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    pub fn new(cap: usize) -> Self {
        assert!(cap > 0, "capacity must be positive");
        Self { cap, map: HashMap::with_capacity(cap), tick: 0 }
    }

    pub fn get(&mut self, k: &K) -> Option<&V> {
        self.tick += 1;
        let t = self.tick;
        self.map.get_mut(k).map(|e| { e.1 = t; &e.0 })
    }

    pub fn put(&mut self, k: K, v: V) -> Option<V> {
        if self.map.len() >= self.cap && !self.map.contains_key(&k) {
            let oldest = self.map.iter().min_by_key(|(_, (_, t))| *t).map(|(k, _)| k.clone())?;
            self.map.remove(&oldest);
        }
        self.tick += 1;
        self.map.insert(k, (v, self.tick)).map(|(old, _)| old)
    }
}

impl<K: Hash + Eq + Clone + Display, V: Display> Display for Lru<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, (v, t)) in &self.map {
            writeln!(f, "{k:>8} => {v:<12} @{t:#06x}")?;
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut c: Lru<String, i64> = Lru::new(2);
    c.put("one".into(), 1);
    c.put("two".to_owned(), 2_000_000);
    let _ = c.get(&"one".to_string());
    c.put(String::from("three"), -3);
    println!("{c}");
    let v: Vec<u8> = b"bytes\x00\xff".iter().copied().rev().collect();
    let s = r#"raw "string" with \n no escapes"#;
    println!("{:?} {} {}", v, s.len(), 'λ' as u32);
    Ok(())
}
