"""The {name} connector."""

from dataclasses import dataclass

from weft_sdk import Action, Call, Connector, Manifest, WeftError


@dataclass
class GreetInput:
    name: str


class Greeter(Connector):
    def manifest(self) -> Manifest:
        return Manifest("{name}", "0.1.0", "Greets people by name.").action(
            Action("greet", "Say hello to someone.")
            .input_schema({
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}},
            })
            .output_schema({
                "type": "object",
                "properties": {"message": {"type": "string"}},
            })
        )

    def invoke(self, call: Call):
        if call.action == "greet":
            greet = call.input(GreetInput)  # a missing name fails: input.name: missing
            return {"message": f"Hello, {greet.name}!"}
        raise WeftError.unknown_action(call.action)
