/**
 * The experiment agent's instructions, written for this project after MLR-Agent's coding stage.
 * A prompt is laid out for small models and for prefix reuse: what stays the same from step to
 * step comes first (the brief, the task, the plan), then the steps so far, and the instruction
 * for this step last, so the model answers it instead of continuing the document and the
 * embedded model re-reads only what is new.
 */

export const EXPERIMENT_SYSTEM =
  'You are a careful machine-learning engineer running a real experiment in a sandbox. ' +
  'Each step you choose exactly one action. Nothing you do not run is real: never write result ' +
  'numbers by hand, never fake or synthesise results, and report failures as failures.';

/**
 * The shape of a first script: a working example a small model can adapt. It uses pandas and
 * print(), not "\n" inside strings, and single quotes: a small model writing code into a JSON
 * string leaves a double quote unescaped, which ends the string (and the file) there.
 */
export const SCRIPT_SHAPE = `import os
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score

os.makedirs('results', exist_ok=True)
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
rows = []
# The baseline first, then the method the proposal describes (replace the example models and metric).
for name, model in [('baseline', LogisticRegression(max_iter=1000)), ('proposed', RandomForestClassifier(random_state=0))]:
    model.fit(X_train, y_train)
    rows.append({'method': name, 'accuracy': accuracy_score(y_test, model.predict(X_test))})
table = pd.DataFrame(rows)
table.to_csv('results/metrics.csv', index=False)
print(table.to_string(index=False))`;

/** A research experiment: implement the proposal as code whose runs write the results. */
export const EXPERIMENT_BRIEF =
  '# Your job\n' +
  'You work in a workspace folder (your current directory) with Python 3 and numpy, pandas, scikit-learn, scipy and ' +
  'matplotlib installed. There is no network and no pip: use data that needs no download (scikit-learn\'s bundled data sets ' +
  'such as load_iris, load_digits, load_wine, load_breast_cancer, or data you generate with a fixed seed).\n' +
  'Goal: implement the proposal below as a small, honest experiment with at least one baseline. The usual path is: write ' +
  'one script `main.py`, run it, fix it until it runs, finish. The script must write its measured results into the folder ' +
  '`results/`: a table `results/metrics.csv` with a header row and one row per method or setting (for example ' +
  '`method,accuracy`), and optionally figures as PNG files (matplotlib with the Agg backend, labelled axes and a title). ' +
  'Only files that your commands write count as results. Keep runs short (minutes, not hours).\n' +
  'A first main.py has this shape (adapt the data, the methods and the metric to the proposal; use single quotes in ' +
  'Python, since a double quote must be escaped inside the JSON string):\n' +
  '```python\n' +
  SCRIPT_SHAPE +
  '\n```\n' +
  'Actions (reply with one JSON object `{"thought": "...", "action": {...}}`):\n' +
  '- write_file, with the fields "path" (relative, e.g. main.py) and "content" (the program\'s complete text, like the example above), writes a file.\n' +
  '- {"action":"run","command":"python main.py","timeoutSeconds":600} runs a shell command; you see its exit code and output.\n' +
  '- {"action":"read_file","path":"results/metrics.csv"} reads a file.\n' +
  '- {"action":"list_files","path":"results"} lists a folder.\n' +
  '- finish, with the field "summary" (what was run and which result files hold what, or what failed), ends the experiment. ' +
  'Do not state numbers in the summary that the code did not print or write. Finishing needs a result file under results/ ' +
  'written by a command.';

/** A competition (MLRC-Bench style): improve the method in methods/; the hidden test split is scored afterwards. */
export const COMPETITION_BRIEF =
  '# Your job\n' +
  'Your workspace holds a competition\'s starter code: a harness (run.py), the development data (data/) and the folder methods/ ' +
  'with a baseline method. Goal: make the method score better than the baseline on the task\'s metric. Only files under ' +
  'methods/ count: everything else is restored before scoring, and changing the harness or looking for hidden data makes ' +
  'the submission invalid. Check your method on the development split with `python run.py --split dev`; after you finish, ' +
  'the method is scored on a hidden test split you never see. Python 3 with numpy, pandas, scikit-learn and scipy; no network, no pip.\n' +
  'Actions (reply with one JSON object `{"thought": "...", "action": {...}}`):\n' +
  '- {"action":"read_file","path":"methods/baseline.py"} reads a file.\n' +
  '- {"action":"list_files","path":"."} lists a folder.\n' +
  '- {"action":"write_file","path":"methods/my_method.py","content":"..."} writes a file (relative path).\n' +
  '- {"action":"run","command":"python run.py --split dev","timeoutSeconds":300} runs a shell command; you see its exit code and output.\n' +
  '- {"action":"finish","summary":"..."} ends your work: describe the method and the development score the harness printed. ' +
  'Do not state numbers that the code did not print.';

/** The last section of a step's prompt: which step this is, the time left, and what to do next. */
export function stepInstruction(o: { brief: 'research' | 'competition'; step: number; maxSteps: number; secondsLeft: number; hint?: string }): string {
  const kind = o.brief === 'competition' ? 'Competition' : 'Experiment';
  const minutes = Math.max(0, Math.round(o.secondsLeft / 60));
  return (
    `## Now\n${kind} step ${o.step} of at most ${o.maxSteps} (about ${minutes} minutes left): choose the next action.\n` +
    (o.hint ? `${o.hint}\n` : '') +
    'Reply with one JSON object {"thought": "...", "action": {...}} and nothing else.'
  );
}
