/** The release, in `--version`, metrics (`sipwarden_build_info`), the health report and the OpenAPI document. */
export const VERSION = '0.1.0';
