// The wire types an agent, a supervisor and the controller share live in ChessWire (no
// Foundation: the per-job supervisor links it alone); every user of ChessAPI sees them here.
@_exported import ChessWire
