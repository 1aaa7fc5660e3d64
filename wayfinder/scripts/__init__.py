"""Published scripts: a completed run as data (`model`), built from its step log (`build`) and
rendered as standalone Playwright Python (`codegen`). No Playwright and no Temporal here."""
