//! The `fedicensus` binary. (Being written: `simulate` comes first.)

fn main() {
    println!("fedicensus");
}
