//! A crate's library code, parsed with `syn` by following its module tree from `lib.rs`: test code
//! (`#[cfg(test)]` items and the modules they declare) is left out, whatever file it sits in, and
//! every path the code names is collected with where it appears.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// One use of a path in library code: the file and the path's segments (`std::fs::write` →
/// `["std", "fs", "write"]`; a `use` tree is flattened, so `use a::{b, c::d}` gives `a::b` and
/// `a::c::d`; a macro's tokens contribute every `x::y::…` run of identifiers).
#[derive(Debug)]
pub struct PathUse {
    /// The file, relative to the workspace root.
    pub file: PathBuf,
    /// The segments.
    pub segments: Vec<String>,
}

impl PathUse {
    /// The path as written, `a::b::c`.
    pub fn text(&self) -> String {
        self.segments.join("::")
    }
}

/// The library of one crate.
pub struct Library {
    /// Every path its non-test code names.
    pub paths: Vec<PathUse>,
    /// The files of its module tree that hold library code.
    pub files: BTreeSet<PathBuf>,
    /// The files declared only under `#[cfg(test)]`.
    pub test_files: BTreeSet<PathBuf>,
}

/// Parse the library of `crates/<krate>` (its `lib.rs` and every module it declares).
pub fn library(root: &Path, krate: &str) -> Library {
    let src = root.join("crates").join(krate).join("src");
    let mut lib = Library {
        paths: Vec::new(),
        files: BTreeSet::new(),
        test_files: BTreeSet::new(),
    };
    load(root, &src.join("lib.rs"), &src, false, &mut lib);
    lib
}

fn load(root: &Path, file: &Path, dir: &Path, test: bool, lib: &mut Library) {
    let rel = file.strip_prefix(root).unwrap_or(file).to_owned();
    if test {
        lib.test_files.insert(rel.clone());
    } else {
        lib.files.insert(rel.clone());
    }
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    if !test {
        let mut v = Collector {
            file: rel,
            paths: &mut lib.paths,
        };
        v.visit_file(&parsed);
    }
    walk_mods(root, &parsed.items, dir, test, lib);
}

/// Follow `mod name;` declarations into their files (`dir/name.rs` or `dir/name/mod.rs`, or the
/// `#[path]` given), inline modules into their folder.
fn walk_mods(root: &Path, items: &[syn::Item], dir: &Path, test: bool, lib: &mut Library) {
    for item in items {
        let syn::Item::Mod(m) = item else { continue };
        let test = test || is_test(&m.attrs);
        let name = m.ident.to_string();
        match &m.content {
            Some((_, inner)) => walk_mods(root, inner, &dir.join(&name), test, lib),
            None => {
                let file = path_attr(&m.attrs).map(|p| dir.join(p)).unwrap_or_else(|| {
                    let flat = dir.join(format!("{name}.rs"));
                    if flat.exists() {
                        flat
                    } else {
                        dir.join(&name).join("mod.rs")
                    }
                });
                let child_dir = if file.file_name().is_some_and(|f| f == "mod.rs") {
                    file.parent().unwrap().to_owned()
                } else {
                    dir.join(&name)
                };
                load(root, &file, &child_dir, test, lib);
            }
        }
    }
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// `#[cfg(test)]`, `#[cfg(all(test, …))]` and the like (a `cfg` naming `test` outside a `not`),
/// and `#[test]` functions.
fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        if a.path().is_ident("test") {
            return true;
        }
        let syn::Meta::List(list) = &a.meta else {
            return false;
        };
        if !list.path.is_ident("cfg") {
            return false;
        }
        let idents: Vec<String> = list
            .tokens
            .clone()
            .into_iter()
            .flat_map(flatten)
            .filter_map(|t| match t {
                proc_macro2::TokenTree::Ident(i) => Some(i.to_string()),
                _ => None,
            })
            .collect();
        idents.iter().any(|i| i == "test") && !idents.iter().any(|i| i == "not")
    })
}

fn flatten(t: proc_macro2::TokenTree) -> Vec<proc_macro2::TokenTree> {
    match t {
        proc_macro2::TokenTree::Group(g) => g.stream().into_iter().flat_map(flatten).collect(),
        other => vec![other],
    }
}

struct Collector<'a> {
    file: PathBuf,
    paths: &'a mut Vec<PathUse>,
}

impl Collector<'_> {
    fn push(&mut self, segments: Vec<String>) {
        self.paths.push(PathUse {
            file: self.file.clone(),
            segments,
        });
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut s = prefix.clone();
                s.push(n.ident.to_string());
                self.push(s);
            }
            syn::UseTree::Rename(r) => {
                let mut s = prefix.clone();
                s.push(r.ident.to_string());
                self.push(s);
            }
            syn::UseTree::Glob(_) => {
                let mut s = prefix.clone();
                s.push("*".into());
                self.push(s);
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }
}

/// Every run of identifiers in a macro's tokens joined by `::`, so that paths inside `format!`,
/// `matches!` and the like are seen too.
fn token_paths(tokens: proc_macro2::TokenStream) -> Vec<Vec<String>> {
    let flat: Vec<proc_macro2::TokenTree> = tokens.into_iter().flat_map(flatten).collect();
    let mut paths = Vec::new();
    let mut i = 0;
    while i < flat.len() {
        if let proc_macro2::TokenTree::Ident(id) = &flat[i] {
            let mut path = vec![id.to_string()];
            let mut j = i + 1;
            while let (
                Some(proc_macro2::TokenTree::Punct(a)),
                Some(proc_macro2::TokenTree::Punct(b)),
                Some(proc_macro2::TokenTree::Ident(next)),
            ) = (flat.get(j), flat.get(j + 1), flat.get(j + 2))
            {
                if a.as_char() != ':' || b.as_char() != ':' {
                    break;
                }
                path.push(next.to_string());
                j += 3;
            }
            paths.push(path);
            i = j;
        } else {
            i += 1;
        }
    }
    paths
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Const(i) => &i.attrs,
            syn::Item::Enum(i) => &i.attrs,
            syn::Item::ExternCrate(i) => &i.attrs,
            syn::Item::Fn(i) => &i.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Macro(i) => &i.attrs,
            syn::Item::Mod(i) => &i.attrs,
            syn::Item::Static(i) => &i.attrs,
            syn::Item::Struct(i) => &i.attrs,
            syn::Item::Trait(i) => &i.attrs,
            syn::Item::Type(i) => &i.attrs,
            syn::Item::Union(i) => &i.attrs,
            syn::Item::Use(i) => &i.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_test(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test(&f.attrs) {
            syn::visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_item_extern_crate(&mut self, e: &'ast syn::ItemExternCrate) {
        self.push(vec![e.ident.to_string()]);
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        self.use_tree(&mut prefix, &u.tree);
    }

    // A one-segment path in an expression or a type is a local name or an imported item (whose
    // `use` is collected); only `a::b` paths name a crate.
    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.segments.len() >= 2 {
            self.push(p.segments.iter().map(|s| s.ident.to_string()).collect());
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        syn::visit::visit_macro(self, m);
        for path in token_paths(m.tokens.clone()) {
            if path.len() >= 2 {
                self.push(path);
            }
        }
    }
}
