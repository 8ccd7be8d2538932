namespace Capstan.Core.Member;

using Capstan.Core.Model;

/// <summary>What membership reports for an alive capture.</summary>
/// <param name="Id">The capture's id.</param>
/// <param name="Address">Its advertised address (gRPC), for peers and the API.</param>
/// <param name="Version">Its binary's version.</param>
public sealed record CaptureInfo(CaptureId Id, string Address, string Version)
{
    /// <summary>
    /// The base URL of its HTTP API (e.g. <c>http://10.0.0.5:8301</c>), for forwarding requests to
    /// the owner; empty when it serves none or the capture did not say.
    /// </summary>
    public string ApiAddress { get; init; } = string.Empty;
}
