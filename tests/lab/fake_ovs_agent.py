#!/usr/bin/python3
"""Register a *fake* Open vSwitch L2 agent with neutron-server over RPC.

Part of crossroom's test lab (tests/lab/up.sh runs it). Run with Debian's python
(/usr/bin/python3) and neutron's config:
    /usr/bin/python3 fake_ovs_agent.py --config-file neutron.conf [--host H] [--loop]

Why: ML2's openvswitch mechanism driver only binds a port (binding:vif_type
= ovs) to a host on which an *alive* OVS agent is registered.  Nova treats
vif_type=binding_failed as fatal (PortBindingFailed), so without a bound port
the fake-driver server would go to ERROR.  We have no Open vSwitch here, so we
only send the state report a real agent would send.  neutron.conf sets a very
large agent_down_time so one report keeps the agent "alive"; --loop keeps
heartbeating every 30 s instead.
"""

import sys
import time

from neutron.agent import rpc as agent_rpc
from neutron.common import config as common_config
from neutron.conf.agent import common as agent_config
from neutron_lib import context
from neutron_lib.agent import topics
from oslo_config import cfg

cli = [cfg.StrOpt("host", default="oslab"), cfg.BoolOpt("loop", default=False)]


def main():
    common_config.register_common_config_options()
    agent_config.register_agent_state_opts_helper(cfg.CONF)
    cfg.CONF.register_cli_opts(cli, "fakeagent")
    argv = []
    for a in sys.argv[1:]:
        argv.append({"--host": "--fakeagent-host", "--loop": "--fakeagent-loop"}.get(a, a))
    common_config.init(argv)
    host = cfg.CONF.fakeagent.host
    state = {
        "binary": "neutron-openvswitch-agent",
        "host": host,
        "availability_zone": "nova",
        "topic": "N/A",
        "agent_type": "Open vSwitch agent",
        "start_flag": True,
        "configurations": {
            "bridge_mappings": {"physnet1": "br-ex"},
            "tunnel_types": ["vxlan"],
            "tunneling_ip": "127.0.0.1",
            "l2_population": False,
            "arp_responder_enabled": False,
            "enable_distributed_routing": False,
            "integration_bridge": "br-int",
            "datapath_type": "system",
            "ovs_hybrid_plug": False,
            "ovs_capabilities": {"datapath_types": ["system"], "iface_types": ["vxlan"]},
            "vhostuser_socket_dir": "/var/run/openvswitch",
            "devices": 0,
            "extensions": [],
            "resource_provider_bandwidths": {},
            "resource_provider_inventory_defaults": {},
        },
    }
    rpc = agent_rpc.PluginReportStateAPI(topics.REPORTS)
    ctx = context.get_admin_context_without_session()
    while True:
        res = rpc.report_state(ctx, state, use_call=True)
        print(f"reported fake OVS agent for host {host}: {res}", flush=True)
        if not cfg.CONF.fakeagent.loop:
            return 0
        state.pop("start_flag", None)
        time.sleep(30)


if __name__ == "__main__":
    sys.exit(main())
