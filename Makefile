# One command builds the evidence pack on the demo data; one runs every test. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LA ?= Stockton-on-Tees
YEAR ?= 2024

.PHONY: pack test lab bench check mutation notebooks clean-outputs

$(BIN)/needs: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,bench,lab]"
	$(BIN)/python -m ipykernel install --sys-prefix --name needs-analysis --display-name "Needs analysis (project)" >/dev/null
	@touch $@

pack: $(BIN)/needs  ## build the evidence pack (demo data unless DATA_DIR is given)
	$(BIN)/needs pack --la "$(LA)" --year $(YEAR) $(if $(DATA_DIR),--data-dir "$(DATA_DIR)")

test: $(BIN)/needs  ## run every test: library, layers (import-linter), notebooks (nbval), pack, browser
	$(BIN)/needs demo >/dev/null
	$(BIN)/python -m pytest tests --nbval-lax --nbval-current-env notebooks tests/notebooks -p no:cacheprovider

notebooks: $(BIN)/needs  ## write every notebook's parameters cell and kernel from analysis/pack/params.py
	$(BIN)/python -c "from analysis.pack.params import write_notebooks; [print('updated', p) for p in write_notebooks('notebooks')]"

lab: $(BIN)/needs  ## open JupyterLab with the project's kernel
	$(BIN)/needs demo
	$(BIN)/jupyter lab notebooks

bench: $(BIN)/needs  ## speed benchmarks (ratios against baselines measured in the same run)
	$(BIN)/python benchmarks/bench_indicators.py
	$(BIN)/python benchmarks/bench_pack.py
	$(BIN)/python benchmarks/bench_records.py

mutation: $(BIN)/needs  ## mutation testing of the statistics and benchmarking (mutmut; slow: about 12 minutes on 2 cores)
	rm -rf mutants
	NEEDS_SHARED="$(abspath ..)/shared" $(BIN)/mutmut run >/dev/null || true
	$(BIN)/mutmut export-cicd-stats >/dev/null
	$(BIN)/python -c "import json; s = json.load(open('mutants/mutmut-cicd-stats.json')); \
	caught = s['killed'] + s['timeout'] + s['segfault']; tried = caught + s['survived'] + s['suspicious']; \
	print(f'mutation score: {caught} of {tried} mutants caught ({caught / tried:.1%}); {s[\"no_tests\"]} not covered'); \
	raise SystemExit(caught / tried < 0.9)"

check: $(BIN)/needs  ## the acceptance checks in ../shared/checks
	bash ../shared/checks/stockton-real.sh
	bash ../shared/checks/pack-html.sh

clean-outputs:
	rm -rf outputs/*/ data/demo data/demo_returns
