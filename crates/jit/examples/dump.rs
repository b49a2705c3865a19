fn main() {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(|| {
            let here = &0u8 as *const u8 as u64;
            println!("here {here:#x} remaining {:?}", stacker::remaining_stack());
        })
        .unwrap()
        .join()
        .unwrap();
}
