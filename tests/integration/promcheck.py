#!/usr/bin/env python3
"""promcheck.py URL|- : scrape klogd's metrics (or read them from standard input)
and check the text exposition format 0.0.4 strictly: every line a comment or
`name{labels} value`; a HELP and a TYPE line before each family's samples,
each family once; counters end in _total; a histogram's buckets are
cumulative, end with le="+Inf" equal to its _count, with a _sum.  With a URL,
also Content-Type text/plain; version=0.0.4, and 404 for another path.
Prints each sample as "name{labels} value", or the problems (exit 1)."""
import re
import sys
import urllib.error
import urllib.request

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
SAMPLE = re.compile(rf'^({NAME})(\{{(?:{LABEL})(?:,{LABEL})*\}})? (\S+)$')
VALUE = re.compile(r'^([+-]?Inf|NaN|[+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)$')


def parse(text):
    problems, samples, help_, type_, seen = [], {}, {}, {}, []
    if not text.endswith('\n'):
        problems.append('the text does not end with a newline')
    for i, line in enumerate(text.splitlines(), 1):
        if line.startswith('# HELP ') or line.startswith('# TYPE '):
            parts = line.split(' ', 3)
            if len(parts) < 4 or not re.fullmatch(NAME, parts[2]):
                problems.append(f'line {i}: malformed {parts[1]}: {line!r}')
                continue
            table = help_ if parts[1] == 'HELP' else type_
            if parts[2] in table:
                problems.append(f'line {i}: second {parts[1]} for {parts[2]}')
            if parts[1] == 'TYPE' and parts[3] not in ('counter', 'gauge', 'histogram',
                                                       'summary', 'untyped'):
                problems.append(f'line {i}: unknown type {parts[3]!r}')
            table[parts[2]] = parts[3]
            if parts[2] not in seen:
                seen.append(parts[2])
            elif seen[-1] != parts[2]:
                problems.append(f'line {i}: family {parts[2]} is split')
            continue
        if line.startswith('#'):
            continue
        m = SAMPLE.match(line)
        if not m or not VALUE.match(m.group(3)):
            problems.append(f'line {i}: not a sample: {line!r}')
            continue
        name, labels, value = m.group(1), m.group(2) or '', float(m.group(3))
        fam = next((f for f in (name, re.sub(r'_(bucket|sum|count)$', '', name))
                    if f in type_), None)
        if fam is None or fam not in help_:
            problems.append(f'line {i}: {name} has no HELP and TYPE before it')
            continue
        if seen[-1] != fam:
            problems.append(f'line {i}: {name} apart from its family\'s HELP/TYPE')
        if type_[fam] == 'counter' and not name.endswith('_total'):
            problems.append(f'line {i}: counter {name} does not end in _total')
        if name + labels in samples:
            problems.append(f'line {i}: {name}{labels} twice')
        samples[name + labels] = value
    for fam, t in type_.items():
        if fam not in help_:
            problems.append(f'{fam}: TYPE without HELP')
        if t != 'histogram':
            continue
        buckets = [(k, v) for k, v in samples.items() if k.startswith(fam + '_bucket{')]
        les = [re.search(r'le="([^"]*)"', k).group(1) for k, _ in buckets]
        if not les or les[-1] != '+Inf':
            problems.append(f'{fam}: no le="+Inf" bucket last')
            continue
        bounds = [float(x) for x in les[:-1]]
        if bounds != sorted(bounds):
            problems.append(f'{fam}: bucket bounds not increasing')
        values = [v for _, v in buckets]
        if values != sorted(values):
            problems.append(f'{fam}: buckets not cumulative: {values}')
        if samples.get(fam + '_count') != values[-1]:
            problems.append(f'{fam}: +Inf bucket {values[-1]} != _count '
                            f'{samples.get(fam + "_count")}')
        if fam + '_sum' not in samples:
            problems.append(f'{fam}: no _sum')
    return problems, samples


def fetch(url):
    problems = []
    with urllib.request.urlopen(url, timeout=5) as r:
        ctype = r.headers.get('Content-Type', '')
        text = r.read().decode()
    if not ctype.startswith('text/plain; version=0.0.4'):
        problems.append(f'Content-Type {ctype!r}')
    other = url.rsplit('/', 1)[0] + '/nothing'
    try:
        urllib.request.urlopen(other, timeout=5)
        problems.append(f'{other}: not a 404')
    except urllib.error.HTTPError as e:
        if e.code != 404:
            problems.append(f'{other}: HTTP {e.code}, not 404')
    return problems, text


def main():
    problems, text = ([], sys.stdin.read()) if sys.argv[1] == '-' else fetch(sys.argv[1])
    more, samples = parse(text)
    problems += more
    if problems:
        for p in problems:
            print(p)
        sys.exit(1)
    for k, v in samples.items():
        print(k, int(v) if v.is_integer() else v)


if __name__ == '__main__':
    main()
