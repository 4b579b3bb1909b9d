//! Typed keys for frameworks and agents, and the slab that stores them.
//! A key is a dense `u32` index plus a generation, so lookups are a bounds
//! check and a compare, and a key kept after its entry was removed is
//! recognised as stale instead of naming whatever reused the slot. The master
//! maps its `FrameworkId`/`AgentId` onto the keys `add_*` return.

use std::fmt;
use std::marker::PhantomData;

/// A slab key: an index and the generation of the slot when it was issued.
pub trait SlabKey: Copy {
    /// Builds a key.
    fn from_parts(index: u32, generation: u32) -> Self;
    /// The slot index.
    fn index(self) -> u32;
    /// The slot generation.
    fn generation(self) -> u32;
}

macro_rules! key {
    ($(#[$doc:meta])* $name:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            index: u32,
            generation: u32,
        }

        impl SlabKey for $name {
            fn from_parts(index: u32, generation: u32) -> Self {
                $name { index, generation }
            }
            fn index(self) -> u32 {
                self.index
            }
            fn generation(self) -> u32 {
                self.generation
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}#{}.{}", $label, self.index, self.generation)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}#{}.{}", $label, self.index, self.generation)
            }
        }
    };
}

key!(
    /// A framework known to the allocator.
    FrameworkKey,
    "framework"
);
key!(
    /// An agent known to the allocator.
    AgentKey,
    "agent"
);
key!(
    /// A role the allocator tracks (internal: the API names roles by path).
    RoleKey,
    "role"
);

#[derive(Debug, Clone)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// Values under generational keys; removed slots are reused with the next
/// generation.
#[derive(Debug, Clone)]
pub struct Slab<K, T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
    _key: PhantomData<K>,
}

impl<K: SlabKey, T> Default for Slab<K, T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            _key: PhantomData,
        }
    }
}

impl<K: SlabKey, T> Slab<K, T> {
    /// Stores `value` and returns its key.
    pub fn insert(&mut self, value: T) -> K {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.generation = slot.generation.wrapping_add(1);
            slot.value = Some(value);
            return K::from_parts(index, slot.generation);
        }
        let index = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        self.slots.push(Slot {
            generation: 0,
            value: Some(value),
        });
        K::from_parts(index, 0)
    }

    /// The key the next [`Slab::insert`] will return.
    pub fn next_key(&self) -> K {
        match self.free.last() {
            Some(&index) => {
                K::from_parts(index, self.slots[index as usize].generation.wrapping_add(1))
            }
            None => K::from_parts(u32::try_from(self.slots.len()).unwrap_or(u32::MAX), 0),
        }
    }

    /// The value under `key`, if the key is current.
    pub fn get(&self, key: K) -> Option<&T> {
        let slot = self.slots.get(key.index() as usize)?;
        (slot.generation == key.generation())
            .then_some(slot.value.as_ref())
            .flatten()
    }

    /// The value under `key`, mutably, if the key is current.
    pub fn get_mut(&mut self, key: K) -> Option<&mut T> {
        let slot = self.slots.get_mut(key.index() as usize)?;
        if slot.generation != key.generation() {
            return None;
        }
        slot.value.as_mut()
    }

    /// Removes and returns the value under `key`, if the key is current.
    pub fn remove(&mut self, key: K) -> Option<T> {
        let slot = self.slots.get_mut(key.index() as usize)?;
        if slot.generation != key.generation() {
            return None;
        }
        let value = slot.value.take()?;
        self.free.push(key.index());
        self.len -= 1;
        Some(value)
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Every value with its key, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (K, &T)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            let value = s.value.as_ref()?;
            Some((K::from_parts(i as u32, s.generation), value))
        })
    }

    /// Every value with its key, mutably, in slot order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (K, &mut T)> {
        self.slots.iter_mut().enumerate().filter_map(|(i, s)| {
            let generation = s.generation;
            let value = s.value.as_mut()?;
            Some((K::from_parts(i as u32, generation), value))
        })
    }
}
