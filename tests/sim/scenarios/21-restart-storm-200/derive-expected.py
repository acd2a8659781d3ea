#!/usr/bin/env python3
"""Derive the decisions of this scenario from the rules, independently of
the C code (ha/decide.c, ha/placement.c): ARCHITECTURE.md "Fencing", the
HA issue's placement rules and the simulator's output format.  Prints the
decision lines of expected.log; the header above them is written by hand.

Rules implemented (only what this scenario exercises):
  - a host lost uncleanly is fenced once; its VMs are `recovering`;
    nothing is placed while any host is unclean;
  - once all are fenced, every VM of a fenced host is placed; a run
    places all VMs that need a host at once, in this order: priority
    descending where a VM lends its priority to the VMs it waits for
    (ha_start_after), a VM after the VMs it waits for, then name;
  - each VM goes to its first preferred host (ha_hosts) that can take it,
    else to the host with the most free memory, ties to the lowest id;
    a host can take it when it is an online dom0 with enough free memory
    and no VM of its anti-affinity group (running, or given earlier in
    this run);
  - a VM whose start_after VMs are not all running keeps its place (its
    memory stays taken in this run) but is not started: `stopped`,
    "waiting for X to run (ha_start_after)"; it starts on a later run
    (a run decides from the state it started from: a VM it starts is not
    yet running for the VMs waiting for it);
  - decisions print in name order; a decision that changes nothing is
    not printed; hosts acknowledge starts at once ("X running on H").
"""
import sys

nodes = {}      # id -> dict
vms = {}        # name -> dict

def load():
    for line in open("setup"):
        t = line.split()
        if not t or t[0].startswith("#"):
            continue
        if t[0] == "node":
            nodes[int(t[2])] = dict(name=t[1], id=int(t[2]), role=t[3],
                                    mem=int(t[4]), state="online")
            continue
        assert t[0] == "vm"
        v = dict(name=t[1], mem=0, prio=0, hosts=[], group="", after=[],
                 host=0, gen=0, state="stopped", reason="", want=False)
        for kv in t[2:]:
            k, val = kv.split("=", 1)
            if k == "mem": v["mem"] = int(val)
            elif k == "prio": v["prio"] = int(val)
            elif k == "hosts": v["hosts"] = val.split(",")
            elif k == "after": v["after"] = val.split(",")
            elif k == "group": v["group"] = val
            elif k == "on": v["host"] = by_name(val)["id"]
            elif k == "state": v["state"] = val
            else: raise SystemExit("unknown key " + k)
        if v["state"] == "running":
            v["gen"], v["want"] = 1, True
        vms[v["name"]] = v

def by_name(n):
    return next(x for x in nodes.values() if x["name"] == n)

out = []
now = 0
fencing = set()

def emit(s):
    out.append(f"{now} {s}")

ACTIVE = ("starting", "running", "stopping", "migrating")

def node_state(i):
    return nodes[i]["state"] if i in nodes else None

def set_vm(v, state, host, gen, reason, text):
    """Apply a decision unless it changes nothing; print it."""
    if (v["state"] == state and v["host"] == host and
            (gen == 0 or gen == v["gen"]) and v["reason"] == reason):
        return False
    emit(text)
    v["state"], v["host"], v["reason"] = state, host, reason
    if gen:
        v["gen"] = gen
    if state == "starting":                 # the host acks at once
        v["state"], v["reason"] = "running", ""
        emit(f"{v['name']} running on {nodes[host]['name']}")
    return True

def order(need):
    """Placement order: lent priority desc, start_after, name."""
    names = set(need)
    deps = {n: [d for d in vms[n]["after"] if d in names] for n in need}
    eff = {n: vms[n]["prio"] for n in need}
    # lend priorities along start_after until nothing changes
    changed = True
    while changed:
        changed = False
        for n in need:
            for d in deps[n]:
                if eff[d] < eff[n]:
                    eff[d], changed = eff[n], True
    done, res = set(), []
    while len(res) < len(need):
        ready = [n for n in need if n not in done and
                 all(d in done for d in deps[n])]
        assert ready, "start order cycle (not in this scenario)"
        n = min(ready, key=lambda x: (-eff[x], x))
        res.append(n)
        done.add(n)
    return res

def schedule():
    changed = False
    unclean = [i for i in sorted(nodes) if nodes[i]["state"] == "unclean"]
    for i in unclean:
        if i not in fencing:
            fencing.add(i)
            emit(f"fence {nodes[i]['name']}")
            changed = True
    for n in sorted(vms):
        v = vms[n]
        if (v["state"] in ACTIVE or v["state"] == "recovering") and \
           node_state(v["host"]) == "unclean":
            hn = nodes[v["host"]]["name"]
            r = f"host {hn} lost; waiting for its fence"
            changed |= set_vm(v, "recovering", v["host"], 0, r,
                              f"{n} recovering: {r}")
    if unclean:
        return changed
    need = []
    for n in sorted(vms):
        v = vms[n]
        lost = (v["state"] in ACTIVE or v["state"] == "recovering") and \
            node_state(v["host"]) in ("fenced", "offline", None)
        if not v["want"] or v["state"] == "failed":
            continue
        if lost or v["state"] in ("stopped", "unplaceable"):
            need.append(n)
    if not need:
        return changed
    hosts = sorted(i for i in nodes if nodes[i]["role"] == "dom0")
    elig = {i: nodes[i]["state"] == "online" for i in hosts}
    free = {i: nodes[i]["mem"] for i in hosts}
    occ = {}        # (group, host) -> the VM of that group there
    for n in sorted(vms):
        v = vms[n]
        if n in need or v["state"] not in ACTIVE + ("recovering",):
            continue
        if v["host"] in free:
            free[v["host"]] -= v["mem"]
            if v["group"] and v["state"] in ACTIVE:
                occ.setdefault((v["group"], v["host"]), n)
    choice = {}
    for n in order(need):
        v = vms[n]
        def ok(i):
            return elig[i] and free[i] >= v["mem"] and \
                not (v["group"] and (v["group"], i) in occ)
        best = None
        for hn in v["hosts"]:
            i = by_name(hn)["id"]
            if i in free and ok(i):
                best = i
                break
        if best is None:
            for i in hosts:
                if ok(i) and (best is None or free[i] > free[best]):
                    best = i
        if best is None:
            choice[n] = (0, explain(v, hosts, elig, free, occ))
            continue
        free[best] -= v["mem"]
        if v["group"]:
            occ.setdefault((v["group"], best), n)
        choice[n] = (best, "")
    # who waits is decided on the state this run started from: a VM
    # started by this very run is not running yet
    waits = {n: next((d for d in vms[n]["after"] if d in vms and
                      vms[d]["want"] and vms[d]["state"] != "running"), None)
             for n in need}
    for n in need:                          # name order
        v = vms[n]
        h, reason = choice[n]
        if h == 0:
            changed |= set_vm(v, "unplaceable", 0, 0, reason,
                              f"{n} unplaceable: {reason}")
            continue
        wait = waits[n]
        if wait:
            r = f"waiting for {wait} to run (ha_start_after)"
            changed |= set_vm(v, "stopped", 0, 0, r, f"{n} stopped: {r}")
        else:
            changed |= set_vm(v, "starting", h, v["gen"] + 1, "",
                              f"start {n} on {nodes[h]['name']} gen {v['gen'] + 1}")
    return changed

def explain(v, hosts, elig, free, occ):
    el = [i for i in hosts if elig[i]]
    fit = [i for i in el if free[i] >= v["mem"]]
    name = lambda i: nodes[i]["name"]
    if not el:
        return "no eligible host"           # not in this scenario
    if not fit:
        big = max(el, key=lambda i: (free[i], -i))
        return f"needs {v['mem']} MB, largest free {free[big]} MB on {name(big)}"
    s = f"anti-affinity group {v['group']}: every fitting host already runs one ("
    s += ", ".join(f"{name(i)}: {occ[(v['group'], i)]}" for i in fit) + ")"
    rest = [i for i in el if i not in fit and (v["group"], i) not in occ]
    if rest:
        big = max(rest, key=lambda i: (free[i], -i))
        s += (f"; hosts without one: needs {v['mem']} MB, largest free "
              f"{free[big]} MB on {name(big)}")
    assert len(s) < 192
    return s

def settle():
    for _ in range(50):
        if not schedule():
            return
    raise SystemExit("does not settle")

load()
settle()
for line in open("events"):
    t = line.split()
    if not t or t[0].startswith("#"):
        continue
    now = int(t[0])
    if t[1] == "node-lost":
        assert t[3] == "nodedown"
        emit(f"event: {t[2]} lost (nodedown)")
        by_name(t[2])["state"] = "unclean"
    elif t[1] == "fence-confirmed":
        emit(f"event: fence of {t[2]} confirmed")
        by_name(t[2])["state"] = "fenced"
        fencing.discard(by_name(t[2])["id"])
    else:
        raise SystemExit("unknown event " + t[1])
    settle()
print("\n".join(out))
