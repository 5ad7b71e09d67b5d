/**
 * @peculiar/x509, loaded after the metadata functions its dependency injection needs. Every module of
 * Sonde imports x509 from here, never from the package, so that the order holds.
 */
import "./reflect-metadata.js";

export * from "@peculiar/x509";
