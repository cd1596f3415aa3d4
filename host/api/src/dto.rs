//! The wire types (`weft-model`) under the names the handlers use. Built from
//! domain types, never the other way; secrets and hashes have no field there.

pub use weft_model::{
    Attempt as AttemptDto, Credential as CredentialDto, Key as KeyDto, Page as PageDto,
    Run as RunDto, Step as StepDto, Workflow as WorkflowDto,
};
