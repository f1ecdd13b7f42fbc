"""The value core that model/ and properties/ import: Word/Cond/Sem, property kinds, results, errors."""
