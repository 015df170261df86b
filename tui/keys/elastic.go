package keys

// The elastic-cluster keys (KIP-455 reassignment, adding and decommissioning brokers): each
// types a scenario statement, as the fault keys do.
func elastic(km *KeyMap) {
	km.AddBroker = bind([]string{"b"}, "b", "add a broker: the next id starts empty and registers (add broker N)", "add a broker", "")
	km.AddBroker.Stmt = "add broker %s"
	km.RemoveBroker = fault("D", "decommission the selected broker: clean stop, then unregister (refused while it holds replicas); y confirms", "remove the broker", "", "remove broker %s")
	km.Reassign = bind([]string{"R"}, "R", "reassign the selected partition: the command line opens with a move onto a broker without it, to edit (enter runs)", "reassign the partition", "")
	km.Reassign.Stmt = "reassign %s replicas=%s"
}
