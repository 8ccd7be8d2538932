namespace Capstan.Core.Keyspan;

using Capstan.Core.Spans;

/// <summary>
/// A key range [StartKey, EndKey) of the upstream store (a TiKV region) with its write volume.
/// An empty key means "unbounded" on that side, as in TiKV.
/// </summary>
/// <param name="Id">The region id.</param>
/// <param name="StartKey">Inclusive start key.</param>
/// <param name="EndKey">Exclusive end key.</param>
/// <param name="WrittenKeys">Keys written to the region in the upstream's last reporting interval.</param>
public readonly record struct Region(ulong Id, byte[] StartKey, byte[] EndKey, ulong WrittenKeys);

/// <summary>
/// The upstream's region layout. A simulated workload provides it in tests and simulations; a real
/// upstream (PD and the TiKV region cache) can plug in through a host-side adapter.
/// </summary>
/// <remarks>Called by the reconciler only when a new table is split, never per tick.</remarks>
public interface IRegionSource
{
    /// <summary>
    /// The regions overlapping [span.StartKey, span.EndKey), in key order. The first region may
    /// start before the span and the last may end after it; the splitters clamp them.
    /// </summary>
    /// <exception cref="RegionSourceException">The layout is unavailable; the span is not split.</exception>
    IReadOnlyList<Region> RegionsOf(Span span);
}

/// <summary>The region layout could not be read. The reconciler treats it as "do not split".</summary>
public sealed class RegionSourceException : Exception
{
    /// <summary>Creates the error.</summary>
    public RegionSourceException(string message) : base(message)
    {
    }

    /// <summary>Creates the error with its cause.</summary>
    public RegionSourceException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
