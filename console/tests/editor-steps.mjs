// What the editor's browser tests share: the steps a person takes in the
// editor (add a step from the palette, take a completion with the keyboard,
// read the text view), and a wait for the canvas to settle.
import assert from "node:assert/strict";
import { expectClean, shot } from "./harness.mjs";

/** The open editor's definition text, in the YAML/JSON tab. */
export async function source(page) {
  await page.getByRole("tab", { name: /^(YAML|JSON)$/ }).click();
  return page.locator("#definition-text").inputValue();
}

/** Waits until the canvas stops moving (the view is fitted again, animated, after steps come or go). */
export async function settled(page) {
  await page.waitForFunction(async () => {
    const t = () => document.querySelector(".svelte-flow__viewport")?.getAttribute("style") ?? "";
    const a = t();
    await new Promise((r) => setTimeout(r, 250));
    return a === t();
  });
}

export async function addStep(page, search, name, screenshot) {
  await page.getByRole("button", { name: "+ Add step" }).click();
  if (screenshot) {
    await shot(page, screenshot);
    await expectClean(page, assert);
  }
  await page.getByRole("searchbox", { name: "Search connectors and steps" }).fill(search);
  await page.getByRole("dialog", { name: "Add a step" }).getByRole("button", { name }).click();
}

/** Types `text` into a template field and takes `option` from its completion list with the keyboard. */
export async function complete(page, field, text, option) {
  await field.click();
  await field.pressSequentially(text);
  const listbox = page.getByRole("listbox", { name: "In scope here" });
  await listbox.waitFor();
  const options = listbox.getByRole("option");
  const labels = await options.allInnerTexts();
  const index = labels.findIndex((l) => l.split(/\s/)[0] === option);
  assert.ok(index >= 0, `${option} offered in ${JSON.stringify(labels)}`);
  for (let i = 0; i < index; i++) await field.press("ArrowDown");
  assert.equal(await field.getAttribute("aria-activedescendant"), await options.nth(index).getAttribute("id"));
  await field.press("Enter");
  await listbox.waitFor({ state: "hidden" });
  return labels;
}
