//! A hand-written component that fits the `connector` world, for limits that the
//! Rust fixtures cannot reach (table growth) and for hostile `describe` bodies.

/// A hand-written component that fits the `connector` world: the records,
/// enum and functions of `weft:plugin/plugin@0.1.0`, lifted from a tiny core
/// module whose `describe` and `invoke` bodies are the given WAT instructions
/// (each must leave an `i32` on the stack: 256 is the manifest, 512 the
/// invoke result `ok("\"table.grow returned -1\"")`). The manifest offers
/// one action, `grow`.
pub fn wat_connector(describe: &str, invoke: &str) -> Vec<u8> {
    let mut image = Image::default();
    let manifest = 256;
    image.string(manifest, "wat-table");
    image.string(manifest + 8, "0.1.0");
    image.string(manifest + 16, "Grows a table until the host refuses.");
    image.u32(manifest + 24, 320); // actions: one record at 320
    image.u32(manifest + 28, 1);
    image.put(manifest + 32, &[0; 16]); // capabilities: no hosts, no credentials
    image.put(manifest + 48, &[0]); // state: false
    image.string(manifest + 52, ""); // config-schema
    image.string(320, "grow");
    image.string(328, "Grow a funcref table by 1000 elements until refused.");
    image.string(336, "{}");
    image.string(344, "{}");
    image.put(512, &[0]); // result<string, plugin-error>: ok, payload at +8
    image.string(520, "\"table.grow returned -1\"");
    let text = WAT_CONNECTOR
        .replace("{{DESCRIBE}}", describe)
        .replace("{{INVOKE}}", invoke)
        .replace("{{DATA}}", &image.data_segment());
    wat::parse_str(&text).unwrap_or_else(|e| panic!("the WAT connector does not assemble: {e}"))
}

/// Linear memory contents laid out with the canonical ABI (little-endian, 32-bit
/// pointers), strings placed from offset 1024.
struct Image {
    bytes: Vec<u8>,
    text: usize,
}

impl Default for Image {
    fn default() -> Self {
        Self {
            bytes: Vec::new(),
            text: 1024,
        }
    }
}

impl Image {
    fn put(&mut self, at: usize, data: &[u8]) {
        if self.bytes.len() < at + data.len() {
            self.bytes.resize(at + data.len(), 0);
        }
        self.bytes[at..at + data.len()].copy_from_slice(data);
    }

    fn u32(&mut self, at: usize, v: u32) {
        self.put(at, &v.to_le_bytes());
    }

    /// A `string` (pointer, length) at `at`, its bytes in the text area.
    fn string(&mut self, at: usize, s: &str) {
        let ptr = self.text;
        self.put(ptr, s.as_bytes());
        self.text += s.len();
        self.u32(at, u32::try_from(ptr).unwrap());
        self.u32(at + 4, u32::try_from(s.len()).unwrap());
    }

    fn data_segment(&self) -> String {
        let escaped: String = self.bytes.iter().map(|b| format!("\\{b:02x}")).collect();
        format!("(data (i32.const 0) \"{escaped}\")")
    }
}

const WAT_CONNECTOR: &str = r#"
(component
  (core module $m
    (memory (export "memory") 2)
    (table $t 1 funcref)
    (global $heap (mut i32) (i32.const 65536))
    ;; bump allocator for the strings the host passes in
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32) (local $end i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (local.set $end (i32.add (local.get $p) (local.get 3)))
      (block $ok
        (loop $more
          (br_if $ok (i32.le_u (local.get $end) (i32.shl (memory.size) (i32.const 16))))
          (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
          (br $more)))
      (global.set $heap (local.get $end))
      (local.get $p))
    (func (export "describe") (result i32) {{DESCRIBE}})
    ;; context (10 flat values), action, input, config
    (func (export "invoke") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i64 i32 i32 i32 i32 i32 i32) (result i32)
      {{INVOKE}})
    {{DATA}})
  (core instance $i (instantiate $m))
  (type $action' (record (field "name" string) (field "description" string)
    (field "input-schema" string) (field "output-schema" string)))
  (export $action "action" (type $action'))
  (type $slot' (record (field "name" string) (field "description" string)
    (field "hosts" (list string)) (field "optional" bool)))
  (export $slot "credential-slot" (type $slot'))
  (type $caps' (record (field "hosts" (list string)) (field "credentials" (list $slot)) (field "state" bool)))
  (export $caps "capabilities" (type $caps'))
  (type $manifest' (record (field "name" string) (field "version" string) (field "description" string)
    (field "actions" (list $action)) (field "capabilities" $caps) (field "config-schema" string)))
  (export $manifest "manifest" (type $manifest'))
  (type $context' (record (field "workflow-id" string) (field "run-id" string) (field "step-id" string)
    (field "attempt" u32) (field "idempotency-key" string) (field "deadline-unix-ms" u64)))
  (export $context "context" (type $context'))
  (type $kind' (enum "invalid-input" "auth" "rate-limited" "transient" "permanent"))
  (export $kind "error-kind" (type $kind'))
  (type $error' (record (field "kind" $kind) (field "message" string) (field "retry-after-ms" (option u64))))
  (export $error "plugin-error" (type $error'))
  (func $describe (result $manifest)
    (canon lift (core func $i "describe") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
  (func $invoke (param "ctx" $context) (param "action" string) (param "input" string) (param "config" string)
    (result (result string (error $error)))
    (canon lift (core func $i "invoke") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
  (instance $plugin (export "describe" (func $describe)) (export "invoke" (func $invoke)))
  (export "weft:plugin/plugin@0.1.0" (instance $plugin)))
"#;
