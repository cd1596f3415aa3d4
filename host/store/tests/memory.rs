weft_store::conformance_tests!(
    #[tokio::test]
    memory
);
async fn memory() -> std::sync::Arc<dyn weft_store::Store> {
    std::sync::Arc::new(weft_store::memory::Memory::new())
}
