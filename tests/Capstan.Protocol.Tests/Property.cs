namespace Capstan.Protocol.Tests;

using CsCheck;

/// <summary>
/// Deterministic property runs: values come from one PCG stream with a fixed seed, so a run is
/// the same every time; a failure names the seed and the iteration.
/// </summary>
internal static class Property
{
    public static void ForAll<T>(Gen<T> gen, Action<T> check, ulong seed, int iterations = 500)
    {
        var pcg = new PCG(1, seed);
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            T value = gen.Generate(pcg, null!, out _);
            try
            {
                check(value);
            }
            catch (Exception error)
            {
                throw new Xunit.Sdk.XunitException(
                    $"property failed (seed {seed}, iteration {iteration}) for {value}: {error.Message}", error);
            }
        }
    }
}
