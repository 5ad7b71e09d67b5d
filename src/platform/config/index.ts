export { type Config, type LoadConfigOptions, loadConfig, redactUrl } from "./load.js";
export { type SettingDoc, settingDocs, settingsSchema } from "./schema.js";
