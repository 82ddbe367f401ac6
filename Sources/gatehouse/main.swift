import GatehouseApp

await Gatehouse.runCommandLine()
