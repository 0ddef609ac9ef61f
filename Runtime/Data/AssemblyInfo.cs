using System.Runtime.CompilerServices;

// The tests check the shuffling generator against published reference values.
[assembly: InternalsVisibleTo("Runtime.Tests")]
