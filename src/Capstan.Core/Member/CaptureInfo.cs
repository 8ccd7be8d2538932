namespace Capstan.Core.Member;

using Capstan.Core.Model;

/// <summary>What membership reports for an alive capture.</summary>
/// <param name="Id">The capture's id.</param>
/// <param name="Address">Its advertised address (gRPC), for peers and the API.</param>
/// <param name="Version">Its binary's version.</param>
public sealed record CaptureInfo(CaptureId Id, string Address, string Version);
