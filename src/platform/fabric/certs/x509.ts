/**
 * @peculiar/x509, loaded after reflect-metadata: its dependency injection (tsyringe) refuses to load
 * without the polyfill. Every module of Sonde imports x509 from here, never from the package, so that
 * the order holds.
 */
import "reflect-metadata";

export * from "@peculiar/x509";
