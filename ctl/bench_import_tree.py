#!/usr/bin/env python3
"""Writes /tmp/100k.json: an etcdctl export of 100 dirs x 1,000 keys (see BENCHMARKS.md)."""
import json
nodes=[]
for d in range(100):
    nodes.append({"key":f"/bench/d{d:03}","dir":True})
    for k in range(1000):
        nodes.append({"key":f"/bench/d{d:03}/k{k:04}","value":f"value-{d}-{k}"})
with open('/tmp/100k.json','w') as f:
    f.write(json.dumps({"format":"etcdctl-export/1","root":"/bench","nodes":nodes}))
print(len(nodes))
