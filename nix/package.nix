# The tool as a Python application, with the native libraries its PDF report needs
# (WeasyPrint's pango, harfbuzz and fontconfig come with nixpkgs' weasyprint) and a font
# set, and the OpenSSH client that `probe --host` and `probe --inventory` run.
{ lib
, python3Packages
, openssh
, makeFontsConf
, dejavu_fonts
, src
}:

let
  fonts = makeFontsConf { fontDirectories = [ dejavu_fonts ]; };
in
python3Packages.buildPythonApplication {
  pname = "compliance-gate";
  version = "0.1.0";
  pyproject = true;
  inherit src;

  build-system = [ python3Packages.hatchling ];

  dependencies = with python3Packages; [
    pydantic
    click
    orjson
    cryptography
    pynacl
    jinja2
    license-expression
    weasyprint
    packaging
    cyclonedx-python-lib
    jsonschema-rs
    rich
    sh
    pyyaml
    uvicorn
    httptools
  ];

  makeWrapperArgs = [
    "--prefix" "PATH" ":" (lib.makeBinPath [ openssh ])
    "--set-default" "FONTCONFIG_FILE" "${fonts}"
  ];

  # The test suite needs root, a real sshd, nix and openssl: it runs in CI, not in the sandbox.
  doCheck = false;
  pythonImportsCheck = [ "compliance" "compliance.cli" ];

  meta = {
    description = "Typed compliance controls over Nix closures, SBOMs and hosts: release gates and signed evidence packets";
    license = lib.licenses.asl20;
    mainProgram = "compliance";
    platforms = lib.platforms.linux;
  };
}
