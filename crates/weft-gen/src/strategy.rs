//! Strategies choose among the actions the generator offers. One trait: uniform, weighted by
//! an opcode profile, and any external policy (the reinforcement-learning environment
//! implements [`Strategy`] and plugs in without changes to the generator).

use crate::action::{Action, Category};
use crate::rng::Rng;
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use weft_core::ValType;

/// What a strategy sees besides the actions.
#[derive(Debug)]
pub struct View<'a> {
    /// Types of the values of the current block, bottom to top.
    pub block_stack: &'a [ValType],
    /// Results the current block (or function) must end with.
    pub block_results: &'a [ValType],
    /// Open constructs.
    pub depth: usize,
    /// Fuel the program consumes so far.
    pub fuel: u64,
    /// Fuel the generator steers towards.
    pub fuel_target: u64,
    /// How many times execution reaches the current point (0: dead code).
    pub visits: usize,
    /// Whether this is the entry function (helpers are generated first).
    pub in_entry: bool,
}

/// Chooses one of the offered actions.
pub trait Strategy {
    /// Index into `actions` (never empty). Out-of-range answers are taken modulo the length.
    fn choose(&mut self, view: &View<'_>, actions: &[Action], rng: &mut Rng) -> usize;
}

/// Uniform over offered actions.
#[derive(Clone, Debug, Default)]
pub struct Uniform;

impl Strategy for Uniform {
    fn choose(&mut self, _view: &View<'_>, actions: &[Action], rng: &mut Rng) -> usize {
        rng.below(actions.len() as u64) as usize
    }
}

/// Weighted by a profile: the probability of an action is proportional to the weight of its
/// opcode name (`i32.add`, `loop`, ...) or, failing that, of its category (`numeric`, ...),
/// shared among the offered actions of that name. Pushing values gets rarer as the block's
/// stack grows, so programs stay readable.
#[derive(Clone, Debug)]
pub struct Weighted {
    /// Weights by opcode name or category name.
    profile: HashMap<String, f64>,
    /// Per action kind (keyed by the address of its static name): the index of the profile
    /// key it is weighted by, and that key's weight. Choosing runs once per tile over every
    /// offered action, so the string lookups are done once per kind, not per offer.
    resolved: FxHashMap<usize, (usize, f64)>,
    /// The distinct profile keys in `resolved`, by index.
    names: Vec<&'static str>,
    /// Scratch: key index of each offered action, count per key, weight of each action.
    key_of: Vec<usize>,
    per_key: Vec<u32>,
    weights: Vec<f64>,
}

impl Default for Weighted {
    fn default() -> Self {
        let mut p = HashMap::new();
        for (k, w) in [
            ("const", 3.0),
            ("local", 4.0),
            ("global", 1.5),
            ("numeric", 5.0),
            ("parametric", 0.7),
            ("memory", 2.0),
            ("call", 1.5),
            ("reference", 0.8),
            ("open", 1.6),
            ("close", 1.0),
            ("branch", 0.8),
            ("marker", 0.6),
        ] {
            p.insert(k.to_string(), w);
        }
        Weighted::with_profile(p)
    }
}

fn category_name(c: Category) -> &'static str {
    match c {
        Category::Const => "const",
        Category::Local => "local",
        Category::Global => "global",
        Category::Numeric => "numeric",
        Category::Parametric => "parametric",
        Category::Memory => "memory",
        Category::Call => "call",
        Category::Reference => "reference",
        Category::Open => "open",
        Category::Close => "close",
        Category::Branch => "branch",
        Category::Marker => "marker",
    }
}

impl Weighted {
    fn with_profile(profile: HashMap<String, f64>) -> Self {
        Weighted {
            profile,
            resolved: FxHashMap::default(),
            names: Vec::new(),
            key_of: Vec::new(),
            per_key: Vec::new(),
            weights: Vec::new(),
        }
    }

    /// A profile from `name=weight` pairs (opcode or category names), over the defaults.
    pub fn from_pairs(pairs: &[(String, f64)]) -> Self {
        let mut w = Weighted::default();
        for (k, v) in pairs {
            w.profile.insert(k.clone(), *v);
        }
        w
    }

    /// Weights by opcode name or category name.
    pub fn profile(&self) -> &HashMap<String, f64> {
        &self.profile
    }

    /// The profile key an action is weighted by (its opcode name if the profile has it, else
    /// its category), as a key index and that key's weight.
    fn resolve(&mut self, a: &Action) -> (usize, f64) {
        let kind = a.kind();
        if let Some(r) = self.resolved.get(&(kind.as_ptr() as usize)) {
            return *r;
        }
        let key = if self.profile.contains_key(kind) {
            kind
        } else {
            category_name(a.category())
        };
        let weight = self.profile.get(key).copied().unwrap_or(1.0);
        // Kinds that share a key share its index (the key's text decides, not its address).
        let index = match self.names.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                self.names.push(key);
                self.names.len() - 1
            }
        };
        self.resolved
            .insert(kind.as_ptr() as usize, (index, weight));
        (index, weight)
    }
}

impl Strategy for Weighted {
    fn choose(&mut self, view: &View<'_>, actions: &[Action], rng: &mut Rng) -> usize {
        let mut key_of = std::mem::take(&mut self.key_of);
        let mut per_key = std::mem::take(&mut self.per_key);
        let mut weights = std::mem::take(&mut self.weights);
        key_of.clear();
        weights.clear();
        for a in actions {
            let (k, w) = self.resolve(a);
            key_of.push(k);
            weights.push(w);
        }
        per_key.clear();
        per_key.resize(self.names.len(), 0u32);
        for k in &key_of {
            per_key[*k] += 1;
        }
        let n = view.block_stack.len() as f64;
        for ((a, w), k) in actions.iter().zip(weights.iter_mut()).zip(&key_of) {
            *w /= per_key[*k] as f64;
            let pushes = matches!(
                a,
                Action::Const(_)
                    | Action::LocalGet(_)
                    | Action::GlobalGet(_)
                    | Action::MemorySize
                    | Action::Block(_)
                    | Action::TableSize
                    | Action::RefIsNull(_)
            );
            if pushes {
                *w /= 1.0 + n * n * 0.5;
            }
            if matches!(a, Action::Drop) {
                *w *= 0.2 + n * 0.1;
            }
        }
        let total: f64 = weights.iter().sum();
        let chosen = if total <= 0.0 {
            rng.below(actions.len() as u64) as usize
        } else {
            let mut x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
            let mut chosen = actions.len() - 1;
            for (i, w) in weights.iter().enumerate() {
                if x < *w {
                    chosen = i;
                    break;
                }
                x -= w;
            }
            chosen
        };
        self.key_of = key_of;
        self.per_key = per_key;
        self.weights = weights;
        chosen
    }
}

/// An external policy given as a closure (for quick experiments; a policy can also implement
/// [`Strategy`] itself).
pub struct External<F>(pub F);

impl<F: FnMut(&View<'_>, &[Action]) -> usize> Strategy for External<F> {
    fn choose(&mut self, view: &View<'_>, actions: &[Action], _rng: &mut Rng) -> usize {
        (self.0)(view, actions) % actions.len()
    }
}
